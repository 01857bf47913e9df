// Exercise 3: a chat room in a few lines of ioredis. Run: make check STEP=07 EX=3
// (TARGET=redis make check STEP=07 EX=3 runs your chat.ts against a real redis-server.)
//
// Your 07-pubsub/chat.ts exports joinRoom(redis, room, name, onLine). The check runs three
// members against the step's server, and a raw client that listens in and talks as "eve".
// It never sleeps: to be sure a member heard nothing more, it has eve say a last line and
// waits for it, because every subscriber of a channel receives its messages in order.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { serverPath, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const STEP = '07-pubsub';
const EXERCISE = basename(fileURLToPath(import.meta.url), '.check.ts');

interface Member {
  say(text: string): Promise<number>;
  leave(): Promise<void>;
}
type JoinRoom = (redis: Redis, room: string, name: string, onLine: (from: string, text: string) => void) => Promise<Member>;

/** The learner's joinRoom (or, under `make exercises`, the solution's). */
async function loadJoinRoom(): Promise<JoinRoom> {
  const path = join(dirname(serverPath(STEP, EXERCISE)), 'chat.ts');
  if (!fs.existsSync(path)) {
    throw new Error(`no ${STEP}/chat.ts yet: create it, exporting joinRoom(redis, room, name, onLine) (see EXERCISES.md, exercise 3)`);
  }
  const module = (await import(pathToFileURL(path).href)) as { joinRoom?: unknown };
  if (typeof module.joinRoom !== 'function') throw new Error(`${STEP}/chat.ts must export a function named joinRoom(redis, room, name, onLine)`);
  return module.joinRoom as JoinRoom;
}

/** What one member heard, and a way to wait for a line without sleeping. */
class Ears {
  readonly lines: string[] = [];
  private waiting: Array<{ line: string; resolve: () => void }> = [];
  readonly onLine = (from: string, text: string) => {
    const line = `${from}: ${text}`;
    this.lines.push(line);
    for (const w of this.waiting.filter((w) => w.line === line)) w.resolve();
    this.waiting = this.waiting.filter((w) => w.line !== line);
  };

  /** Resolves once `line` was heard (at once if it already was). */
  heard(line: string, who: string): Promise<void> {
    if (this.lines.includes(line)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${who} never heard "${line}"; heard so far: ${JSON.stringify(this.lines)}`)), 5000);
      this.waiting.push({ line, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

describe('exercise 3: a chat room on Pub/Sub', () => {
  let dir: string;
  let server: TestServer;
  let connections: Redis[];
  let members: Member[];
  let raw: RawClient[];
  let joinRoom: JoinRoom;

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'chat-'));
    server = await startExerciseServer(import.meta.url, { dir, save: [] });
    connections = [];
    members = [];
    raw = [];
    joinRoom = await loadJoinRoom();
  });
  afterEach(async () => {
    for (const c of raw) c.destroy();
    await server.close(); // ends every connection, the members' own included
    for (const redis of connections) redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A member with its own ioredis connection (at its defaults: it opens with HELLO 3). */
  async function enter(room: string, name: string): Promise<{ member: Member; ears: Ears }> {
    // No reconnecting: a connection the check's server closed stays closed.
    const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    connections.push(redis);
    await redis.connect();
    const ears = new Ears();
    const member = await joinRoom(redis, room, name, ears.onLine);
    members.push(member);
    return { member, ears };
  }

  /** "eve", a raw RESP2 client that talks by PUBLISHing "eve: <text>" itself. */
  async function eve(): Promise<{ say(room: string, text: string): Promise<string>; client: RawClient }> {
    const client = await RawClient.connect(server.port);
    raw.push(client);
    return { client, say: async (room, text) => (await client.request(command('PUBLISH', `room:${room}`, `eve: ${text}`))).toString('latin1') };
  }

  it('three members: each hears the others\' lines, in order, and never its own', async () => {
    const alice = await enter('lobby', 'alice');
    const bob = await enter('lobby', 'bob');
    const carol = await enter('lobby', 'carol');
    expect(await alice.member.say('hi'), "say() resolves to PUBLISH's reply: how many members received the line (all three listen)").toBe(3);
    expect(await bob.member.say('hello')).toBe(3);
    expect(await carol.member.say('hey')).toBe(3);
    const { say } = await eve();
    await say('lobby', 'that is all');
    // eve's line comes after the others on every member's connection: once it is heard, all is.
    await Promise.all([alice, bob, carol].map((m, i) => m.ears.heard('eve: that is all', ['alice', 'bob', 'carol'][i]!)));
    expect(alice.ears.lines, 'what alice heard: the others, in order, not her own "hi" (Redis sends a message to every subscriber, its publisher\'s listening connection included: skip your own name)')
      .toEqual(['bob: hello', 'carol: hey', 'eve: that is all']);
    expect(bob.ears.lines, 'what bob heard').toEqual(['alice: hi', 'carol: hey', 'eve: that is all']);
    expect(carol.ears.lines, 'what carol heard').toEqual(['alice: hi', 'bob: hello', 'eve: that is all']);
  });

  it('a line is "<name>: <text>" on the channel room:<room>, so redis-cli can listen and talk', async () => {
    const listener = await RawClient.connect(server.port);
    raw.push(listener);
    await listener.expectReply(command('SUBSCRIBE', 'room:lobby'), '*3\r\n$9\r\nsubscribe\r\n$10\r\nroom:lobby\r\n:1\r\n');
    const alice = await enter('lobby', 'alice');
    expect(await alice.member.say('hi: there'), 'the raw listener and alice herself').toBe(2);
    const { bytes } = await listener.readReplies(1);
    expectBytes('(alice.say("hi: there"))', bytes, '*3\r\n$7\r\nmessage\r\n$10\r\nroom:lobby\r\n$16\r\nalice: hi: there\r\n',
      'what `redis-cli subscribe room:lobby` receives when alice says "hi: there": PUBLISH room:lobby "alice: hi: there"');
    const { say } = await eve();
    await say('kitchen', 'wrong room');
    await say('lobby', 'yo: colons and all');
    await alice.ears.heard('eve: yo: colons and all', 'alice');
    expect(alice.ears.lines, 'the name ends at the first ": ", the text is the rest; room:kitchen is another channel').toEqual(['eve: yo: colons and all']);
  });

  it('joinRoom resolves only once the member hears the room: a line said right after is not lost', async () => {
    const alice = await enter('lobby', 'alice');
    const bob = await enter('lobby', 'bob');
    const receivers = await alice.member.say('welcome, bob');
    expect(receivers, `PUBLISH reached ${receivers} member(s) right after bob's joinRoom resolved: bob's SUBSCRIBE was not confirmed yet, and ` +
      'Pub/Sub keeps nothing for a late subscriber. Resolve joinRoom after awaiting subscribe()').toBe(2);
    await bob.ears.heard('alice: welcome, bob', 'bob');
  });

  it('leave() unsubscribes: the room counts one member fewer, and the leaver hears nothing more', async () => {
    const alice = await enter('lobby', 'alice');
    const bob = await enter('lobby', 'bob');
    const carol = await enter('lobby', 'carol');
    const { client, say } = await eve();
    await client.expectReply(command('PUBSUB', 'NUMSUB', 'room:lobby'), '*2\r\n$10\r\nroom:lobby\r\n:3\r\n', 'three members, three subscriptions');
    await carol.member.leave();
    await client.expectReply(command('PUBSUB', 'NUMSUB', 'room:lobby'), '*2\r\n$10\r\nroom:lobby\r\n:2\r\n',
      'after carol.leave() resolved, the server still counts her as a subscriber: leave() must UNSUBSCRIBE (or close her listening connection) ' +
        'and wait for it, not just stop calling onLine');
    expect(await alice.member.say('bye, carol'), 'alice and bob').toBe(2);
    await say('lobby', 'end');
    await Promise.all([alice.ears.heard('eve: end', 'alice'), bob.ears.heard('eve: end', 'bob')]);
    expect(carol.ears.lines, 'carol left before anyone spoke').toEqual([]);
  });
});
