// Pub/Sub at scale and under pressure, on step 07's server in this process: a thousand
// subscribers each receive every message, in order; thousands of channels; a subscriber
// that stops reading is cut off at its output limit while the publisher and the other
// subscribers carry on; and a client that leaves takes all its subscriptions with it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { captureLog, type CapturedLog } from '../test/helpers/logs.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { TARGET, startStep, type StepOptions, type TestServer } from '../test/helpers/servers.ts';

const STEP = '07-pubsub';
const SUBSCRIBERS = 1000;

/** The message a subscriber receives, as RESP2 bytes. */
const message = (channel: string, payload: string) =>
  `*3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$${payload.length}\r\n${payload}\r\n`;

describe.skipIf(TARGET === 'redis')(`${STEP}: fan-out and slow subscribers`, () => {
  let dir: string;
  let server: TestServer;
  let clients: RawClient[];
  let log: CapturedLog;

  async function start(options: StepOptions<typeof STEP> = {}): Promise<void> {
    server = await startStep(STEP, { dir, save: [], loglevel: 'debug', logSink: log.sink, ...options });
  }

  async function connect(): Promise<RawClient> {
    const client = await RawClient.connect(server.port);
    clients.push(client);
    return client;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'fanout-'));
    clients = [];
    log = captureLog();
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`delivers every message, in order, to each of ${SUBSCRIBERS} subscribers`, async () => {
    const limit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
    if (limit < 2 * SUBSCRIBERS + 500) {
      throw new Error(`this test opens ${2 * SUBSCRIBERS} sockets in one process, and the open-file limit is ${limit}: raise it (ulimit -n 8192; make test does)`);
    }
    await start();
    const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => connect()));
    await Promise.all(subscribers.map((s) => s.expectReply(command('SUBSCRIBE', 'broadcast'), '*3\r\n$9\r\nsubscribe\r\n$9\r\nbroadcast\r\n:1\r\n')));
    const publisher = await connect();
    const payloads = Array.from({ length: 50 }, (_, i) => `message ${i} ${'x'.repeat(i * 20)}`);
    await publisher.expectReply(payloads.map((p) => command('PUBLISH', 'broadcast', p)).join(''), `:${SUBSCRIBERS}\r\n`.repeat(payloads.length));
    const expected = payloads.map((p) => message('broadcast', p)).join('');
    for (const s of subscribers) expect((await s.readBytes(expected.length)).toString('latin1')).toBe(expected);
  });

  it('keeps thousands of channels apart, and a message to a channel nobody listens to goes nowhere', async () => {
    await start();
    const channels = Array.from({ length: 3000 }, (_, i) => `room:${i}`);
    const listener = await connect();
    await listener.request(command('SUBSCRIBE', ...channels), channels.length);
    const publisher = await connect();
    const sent = channels.filter((_, i) => i % 7 === 0);
    await publisher.expectReply(sent.map((ch) => command('PUBLISH', ch, `for ${ch}`) + command('PUBLISH', `${ch}:nobody`, 'x')).join(''), ':1\r\n:0\r\n'.repeat(sent.length));
    const expected = sent.map((ch) => message(ch, `for ${ch}`)).join('');
    expect((await listener.readBytes(expected.length)).toString('latin1')).toBe(expected);
    await publisher.expectReply(command('PUBSUB', 'NUMSUB', 'room:0', 'room:2999', 'room:3000'), '*6\r\n$6\r\nroom:0\r\n:1\r\n$9\r\nroom:2999\r\n:1\r\n$9\r\nroom:3000\r\n:0\r\n');
  });

  it('cuts off a subscriber that stops reading, at its hard limit, while the others get everything', async () => {
    const hard = 1024 * 1024;
    await start({ 'client-output-buffer-limit': { normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 }, replica: { hardBytes: 0, softBytes: 0, softSeconds: 0 }, pubsub: { hardBytes: hard, softBytes: 0, softSeconds: 0 } } });
    const slow = await connect();
    const reader = await connect();
    const publisher = await connect();
    for (const s of [slow, reader]) await s.expectReply(command('SUBSCRIBE', 'firehose'), '*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n');
    slow.stopReading();
    const payload = 'p'.repeat(64 * 1024);
    const one = message('firehose', payload);
    let received = 0;
    // 30 MB in all: far more than the kernel's socket buffers and the limit together.
    for (let batch = 0; batch < 60; batch++) {
      const replies = (await publisher.request(command('PUBLISH', 'firehose', payload).repeat(8), 8)).toString('latin1');
      expect(replies).toMatch(/^(:[12]\r\n){8}$/); // the publisher is answered at once, every time
      received += (await reader.readBytes(8 * one.length)).length; // the reader keeps up
    }
    expect(received).toBe(60 * 8 * one.length);
    await publisher.expectReply(command('PUBSUB', 'NUMSUB', 'firehose'), '*2\r\n$8\r\nfirehose\r\n:1\r\n', 'the slow subscriber is gone');
    const cut = log.lines.find((l) => l.includes('closed for overcoming of output buffer limits'));
    expect(cut, 'the server says why it closed the connection').toBeDefined();
    const omem = Number(/omem=(\d+)/.exec(cut!)?.[1]);
    expect(omem, 'the unread output never grew past the limit by more than one message').toBeLessThan(hard + one.length);
    slow.resumeReading();
    await slow.closed;
  });

  it('cuts off a subscriber that stays over its soft limit for longer than its seconds', async () => {
    const clock = new FakeClock();
    const soft = 512 * 1024;
    await start({ clock, 'client-output-buffer-limit': { normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 }, replica: { hardBytes: 0, softBytes: 0, softSeconds: 0 }, pubsub: { hardBytes: 0, softBytes: soft, softSeconds: 2 } } });
    const slow = await connect();
    const publisher = await connect();
    await slow.expectReply(command('SUBSCRIBE', 'c'), '*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n');
    slow.stopReading();
    const payload = 'q'.repeat(64 * 1024);
    const publishUntilOverSoftLimit = async () => {
      // Enough to fill the kernel's buffers and pass the soft limit; the connection stays.
      for (let i = 0; i < 40; i++) await publisher.request(command('PUBLISH', 'c', payload).repeat(4), 4);
    };
    await publishUntilOverSoftLimit();
    clock.advance(2000); // over the soft limit for 2 s: not yet more than 2
    await publisher.expectReply(command('PUBLISH', 'c', 'x'), ':1\r\n');
    expect(log.lines.some((l) => l.includes('output buffer limits'))).toBe(false);
    clock.advance(1000);
    await publisher.expectReply(command('PUBLISH', 'c', 'x'), ':1\r\n', 'counted as a receiver, then cut off');
    await publisher.expectReply(command('PUBSUB', 'NUMSUB', 'c'), '*2\r\n$1\r\nc\r\n:0\r\n');
  });

  it('a client that leaves takes every channel and pattern with it', async () => {
    await start();
    const leaving = await connect();
    const staying = await connect();
    const observer = await connect();
    await leaving.request(command('SUBSCRIBE', 'a', 'b', 'c') + command('PSUBSCRIBE', 'x*', 'y*'), 5);
    await staying.request(command('SUBSCRIBE', 'b') + command('PSUBSCRIBE', 'y*'), 2);
    leaving.reset(); // a crashed client: no UNSUBSCRIBE, no QUIT
    await log.until(/Client closed connection/);
    await observer.expectReply(command('PUBSUB', 'NUMSUB', 'a', 'b', 'c') + command('PUBSUB', 'NUMPAT') + command('PUBLISH', 'b', 'm'),
      '*6\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:1\r\n$1\r\nc\r\n:0\r\n:1\r\n:1\r\n');
    const info = (await observer.request(command('INFO', 'stats'))).toString('latin1');
    expect(info).toContain('pubsub_channels:1\r\n');
    expect(info).toContain('pubsub_patterns:1\r\n');
    // UNSUBSCRIBE with no channel leaves every one, whatever the order it names them in.
    const many = await connect();
    const replies = (await many.request(command('SUBSCRIBE', 'p', 'q', 'r') + command('UNSUBSCRIBE'), 6)).toString('latin1');
    const left = [...replies.matchAll(/\$11\r\nunsubscribe\r\n\$1\r\n(.)\r\n:(\d)/g)].map((m) => `${m[1]}${m[2]}`);
    expect(left.map((l) => l[0]).sort()).toEqual(['p', 'q', 'r']);
    expect(left.map((l) => l[1])).toEqual(['2', '1', '0']);
  });
});
