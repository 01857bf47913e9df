// Exercise 1: keyspace notifications for expired keys. Run: make check STEP=07 EX=1
// TARGET=redis make check STEP=07 EX=1 runs the same check against a real redis-server
// (where the check sets the classes with CONFIG SET instead of the flag).
//
// The server runs on a FakeClock: time stands still, so the active expiry cycle runs only
// when the check moves the clock, and a key past its deadline waits for the command under
// test. A notification that should not exist is caught without waiting: the check then
// publishes a marker message, and the subscriber's next message must be that marker
// (everything the server sends a client leaves in order).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { TARGET, spawnStep, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const EXERCISE = basename(fileURLToPath(import.meta.url), '.check.ts');

/** A message as a RESP2 subscriber receives it, on a channel it SUBSCRIBEd to. */
const message = (channel: string, payload: string) =>
  `*3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$${payload.length}\r\n${payload}\r\n`;
/** The same, on a channel that matched one of its PSUBSCRIBE patterns. */
const pmessage = (pattern: string, channel: string, payload: string) =>
  `*4\r\n$8\r\npmessage\r\n$${pattern.length}\r\n${pattern}\r\n$${channel.length}\r\n${channel}\r\n$${payload.length}\r\n${payload}\r\n`;
/** What a subscribed RESP2 connection gets for PING. */
const PONG = '*2\r\n$4\r\npong\r\n$0\r\n\r\n';

/**
 * Sends `bytes`, then reads replies up to and including `last` (a PING's answer): whatever
 * the server queued for this connection before it arrives, and nothing is waited for in vain.
 */
async function readThrough(client: RawClient, bytes: string, last: string): Promise<Buffer> {
  client.send(bytes);
  const replies: Buffer[] = [];
  for (;;) {
    const { bytes: reply } = await client.readReplies(1);
    replies.push(reply);
    if (reply.toString('latin1') === last) return Buffer.concat(replies);
  }
}

/** Sends PING on a subscribed connection: the messages queued before it, then its answer. */
async function expectBeforePong(sub: RawClient, expected: string, hint: string): Promise<void> {
  expectBytes(command('PING'), await readThrough(sub, command('PING'), PONG), expected + PONG, hint);
}

describe('exercise 1: keyspace notifications for expired keys', () => {
  let dir: string;
  let clock: FakeClock;
  let servers: TestServer[];
  let clients: RawClient[];

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'keyspace-events-'));
    clock = new FakeClock();
    servers = [];
    clients = [];
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A server started with --notify-keyspace-events `classes` (real Redis: CONFIG SET). */
  async function start(classes: string): Promise<TestServer> {
    const server = await startExerciseServer(import.meta.url, { dir, save: [], clock, 'notify-keyspace-events': classes });
    servers.push(server);
    if (server.target === 'redis') {
      const admin = await connect(server);
      await admin.expectReply(command('CONFIG', 'SET', 'notify-keyspace-events', classes), '+OK\r\n');
    }
    return server;
  }

  async function connect(server: TestServer): Promise<RawClient> {
    const client = await RawClient.connect(server.port);
    clients.push(client);
    return client;
  }

  /** A RESP2 connection subscribed to `channels` and PSUBSCRIBEd to `patterns`. */
  async function subscriber(server: TestServer, channels: string[], patterns: string[] = []): Promise<RawClient> {
    const sub = await connect(server);
    if (channels.length > 0) await sub.request(command('SUBSCRIBE', ...channels), channels.length);
    if (patterns.length > 0) await sub.request(command('PSUBSCRIBE', ...patterns), patterns.length);
    return sub;
  }

  it('CONFIG GET notify-keyspace-events shows the classes as Redis writes them', async () => {
    for (const [given, shown] of [['Ex', 'xE'], ['KEA', 'AKE'], ['', '']]) {
      const server = await start(given!);
      const client = await connect(server);
      await client.expectReply(
        command('CONFIG', 'GET', 'notify-keyspace-events'),
        `*2\r\n$22\r\nnotify-keyspace-events\r\n$${shown!.length}\r\n${shown}\r\n`,
        `started with --notify-keyspace-events "${given}": the parameter is registered by a family's config table (as pubsub.ts registers ` +
          'client-output-buffer-limit), and Redis prints the classes in its own order: A (or g$lshzxetdn), then K, E',
      );
    }
  });

  it('a key read after its deadline: __keyevent@0__:expired carries its name', async () => {
    const server = await start('Ex');
    const sub = await subscriber(server, ['__keyevent@0__:expired']);
    const client = await connect(server);
    // PXAT 1 is 1970: SET stores the key anyway, already past its deadline.
    await client.expectReply(command('SET', 'session:42', 'v', 'PXAT', '1') + command('GET', 'session:42'), '+OK\r\n$-1\r\n');
    await expectBeforePong(
      sub,
      message('__keyevent@0__:expired', 'session:42'),
      'GET found session:42 past its deadline and deleted it (lazy expiry): the server publishes the key\'s name on ' +
        '__keyevent@0__:expired, before the PING\'s answer. Publish where every expiry goes through: the keyspace\'s onExpire hook in server.ts',
    );
  });

  it('with K and E: __keyspace@0__:<key> says "expired", then __keyevent@0__:expired names the key', async () => {
    const server = await start('KEx');
    const pattern = '__key*@0__:*';
    const sub = await subscriber(server, [], [pattern]);
    const client = await connect(server);
    const key = 'user:\xff\r\n'; // binary-safe: the key's bytes go into the channel's name
    await client.expectReply(command('SET', key, 'v', 'PXAT', '1') + command('EXISTS', key), '+OK\r\n:0\r\n');
    await expectBeforePong(
      sub,
      pmessage(pattern, `__keyspace@0__:${key}`, 'expired') + pmessage(pattern, '__keyevent@0__:expired', key),
      'K: channel __keyspace@0__:<key>, message "expired"; E: channel __keyevent@0__:expired, message the key. Both, keyspace first, as Redis\'s notify.c',
    );
  });

  it('a key nobody reads: the active expiry cycle notifies too', async () => {
    const server = await start('Ex');
    const sub = await subscriber(server, ['__keyevent@0__:expired']);
    const client = await connect(server);
    await client.expectReply(command('SET', 'cache:1', 'v', 'PX', '100'), '+OK\r\n');
    if (server.target === 'redis') {
      // Real Redis on its real clock: its cycle finds the key within a few hundred ms.
      const { bytes } = await sub.readReplies(1);
      expectBytes('(waited for the notification)', bytes, message('__keyevent@0__:expired', 'cache:1'));
      return;
    }
    clock.advance(200); // the cron runs twice; its cycle finds cache:1 past its deadline
    await client.expectReply(command('DBSIZE'), ':0\r\n', 'the active expiry cycle should have deleted cache:1 (step 04)');
    await expectBeforePong(
      sub,
      message('__keyevent@0__:expired', 'cache:1'),
      'no command touched cache:1: the active expiry cycle deleted it. It must be notified like a lazy expiry; ' +
        'both call the keyspace\'s expire(), which calls the onExpire hook',
    );
  });

  it('an event needs its class: with K and E but no x, an expiry publishes nothing', async () => {
    const server = await start('KE');
    const sub = await subscriber(server, ['marker'], ['__key*__:*']);
    const client = await connect(server);
    const sent = command('SET', 'k', 'v', 'PXAT', '1') + command('GET', 'k') + command('PUBLISH', 'marker', 'end');
    await client.expectReply(sent, '+OK\r\n$-1\r\n:1\r\n');
    const { bytes } = await sub.readReplies(1);
    expectBytes(
      sent,
      bytes,
      message('marker', 'end'),
      'K and E only say where events go; x says which events: without a class, nothing is published (Redis returns early in notifyKeyspaceEvent)',
    );
  });

  it('DEL, and EXPIRE with a time in the past, are not expiries', async () => {
    const server = await start('KEx');
    const sub = await subscriber(server, ['marker'], ['__key*__:*']);
    const client = await connect(server);
    const sent = command('SET', 'a', 'v', 'EX', '100') + command('DEL', 'a') + command('SET', 'b', 'v', 'EX', '100') + command('EXPIRE', 'b', '-1') +
      command('SET', 'c', 'v', 'EX', '100') + command('PERSIST', 'c') + command('PUBLISH', 'marker', 'end');
    await client.expectReply(sent, '+OK\r\n:1\r\n+OK\r\n:1\r\n+OK\r\n:1\r\n:1\r\n');
    const { bytes } = await sub.readReplies(1);
    expectBytes(
      sent,
      bytes,
      message('marker', 'end'),
      'no key expired here: a and b were deleted by commands (Redis reports those as "del", class g, which this exercise leaves out), ' +
        'c lost its deadline. Notify from the expiry path only (onExpire), not from every change (onModify) or every deletion',
    );
  });

  it('a command that finds the key dead reports the expiry, DEL included (which then answers 0)', async () => {
    const server = await start('Ex');
    const sub = await subscriber(server, ['__keyevent@0__:expired']);
    const client = await connect(server);
    await client.expectReply(command('SET', 'k', 'v', 'PXAT', '1') + command('DEL', 'k'), '+OK\r\n:0\r\n', 'k was already dead: DEL deletes nothing');
    await expectBeforePong(sub, message('__keyevent@0__:expired', 'k'), 'DEL looked k up first, found it past its deadline, and expired it: that is an expiry');
  });

  it('RESP3: a subscriber that expires a key itself gets the push before the reply', async () => {
    const server = await start('Ex');
    const client = await connect(server);
    await client.request(command('HELLO', '3'));
    await client.request(command('SUBSCRIBE', '__keyevent@0__:expired'));
    const sent = command('SET', 'k', 'v', 'PXAT', '1') + command('GET', 'k') + command('PING');
    expectBytes(
      sent,
      await readThrough(client, sent, '+PONG\r\n'),
      '+OK\r\n>3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n_\r\n+PONG\r\n',
      'GET k expires k while it runs: the message is queued then, and GET\'s null (RESP3 "_") after it',
    );
  });

  it.skipIf(TARGET === 'redis')('the flag: an unknown class stops the start with a one-line reason', async () => {
    const error = await spawnStep('07-pubsub', ['--dir', dir, '--save', '', '--notify-keyspace-events', 'Exq'], { exercise: EXERCISE }).then(
      (child) => child.kill().then(() => null),
      (err: Error) => err.message,
    );
    expect(error, 'redis-server --notify-keyspace-events Exq refuses to start: so must yours (a textFlag with a check, lib/cli.ts)').not.toBeNull();
    expect(error, "redis-server's reason, which yours should give too").toContain("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    const child = await spawnStep('07-pubsub', ['--dir', dir, '--save', '', '--notify-keyspace-events', 'KEA'], { exercise: EXERCISE });
    await child.kill();
  });
});
