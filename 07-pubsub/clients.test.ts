// Real subscribers at their default options: ioredis and node-redis (both open with
// HELLO 3, so messages arrive as RESP3 pushes), and redis-cli subscribe/psubscribe, whose
// printout is compared with what it prints for real Redis.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { startStep, type TestServer } from '../test/helpers/servers.ts';

const STEP = '07-pubsub';
const dir = fs.mkdtempSync(join(tmpdir(), 'pubsub-clients-'));
let server: TestServer;
beforeAll(async () => {
  server = await startStep(STEP, { dir, save: [] });
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the next `count` events a listener is called with. */
function nextEvents<T extends unknown[]>(count: number, subscribe: (listener: (...args: T) => void) => void): Promise<T[]> {
  return new Promise((resolve) => {
    const seen: T[] = [];
    subscribe((...args) => {
      seen.push(args);
      if (seen.length === count) resolve(seen);
    });
  });
}

describe('ioredis, at its defaults', () => {
  it('subscribes, receives messages and pattern messages, unsubscribes, and never reconnects', async () => {
    const subscriber = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    const publisher = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    let reconnections = 0;
    subscriber.on('reconnecting', () => reconnections++);
    onTestFinished(() => {
      subscriber.disconnect();
      publisher.disconnect();
    });
    await Promise.all([subscriber.connect(), publisher.connect()]);
    expect(await subscriber.subscribe('news', 'sport')).toBe(2);
    expect(await subscriber.psubscribe('news.*')).toBe(3);
    const messages = nextEvents<[string, string]>(2, (l) => subscriber.on('message', l));
    const pmessages = nextEvents<[string, string, string]>(1, (l) => subscriber.on('pmessage', l));
    const binary = nextEvents<[Buffer, Buffer]>(1, (l) => subscriber.on('messageBuffer', (ch: Buffer, m: Buffer) => ch.toString() === 'sport' && l(ch, m)));
    expect(await publisher.publish('news', 'hello')).toBe(1);
    expect(await publisher.publish('sport', Buffer.from([0, 255, 13, 10]))).toBe(1);
    expect(await publisher.publish('news.tech', 'chips')).toBe(1);
    expect(await messages).toEqual([['news', 'hello'], ['sport', '\x00\ufffd\r\n']]);
    expect(await pmessages).toEqual([['news.*', 'news.tech', 'chips']]);
    expect((await binary)[0]![1]).toEqual(Buffer.from([0, 255, 13, 10]));
    expect(await subscriber.unsubscribe('news')).toBe(2);
    expect(await publisher.publish('news', 'gone')).toBe(0);
    expect(reconnections).toBe(0);
  });
});

describe('node-redis, at its defaults', () => {
  it('subscribes, receives messages and pattern messages, unsubscribes', async () => {
    const publisher = createClient({ socket: { port: server.port, host: '127.0.0.1', reconnectStrategy: false } });
    const subscriber = publisher.duplicate();
    onTestFinished(async () => {
      await Promise.all([publisher.close(), subscriber.close()]);
    });
    await Promise.all([publisher.connect(), subscriber.connect()]);
    let listener: (message: string, channel: string) => void = () => {};
    const messages = nextEvents<[string, string]>(2, (l) => (listener = l));
    // Each resolves once the server has confirmed the subscription.
    await subscriber.subscribe('room', (message, channel) => listener(message, channel));
    await subscriber.pSubscribe('room.*', (message, channel) => listener(message, channel));
    expect(await publisher.publish('room', 'hi')).toBe(1);
    expect(await publisher.publish('room.7', 'seven')).toBe(1);
    expect(await messages).toEqual([['hi', 'room'], ['seven', 'room.7']]);
    await subscriber.unsubscribe('room');
    expect(await publisher.publish('room', 'gone')).toBe(0);
  });
});

describeWithRedis(['redis-server', 'redis-cli'], `${STEP} with redis-cli subscribe and psubscribe`, () => {
  let redis: RealRedis;
  beforeAll(async () => {
    redis = await startRealRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** Runs redis-cli with `args` until it printed `lines` lines, then stops it; returns what it printed. */
  function cliUntil(port: number, args: string[], lines: number, onReady: () => Promise<void>): Promise<string> {
    return new Promise((resolve, reject) => {
      const cli = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let published = false;
      cli.stdout.on('data', (d) => {
        out += d;
        const count = out.split('\n').length - 1;
        if (!published && count >= 3) {
          published = true; // the subscription is confirmed: now publish
          onReady().catch(reject);
        }
        if (count >= lines) cli.kill();
      });
      cli.once('close', () => resolve(out));
      cli.once('error', reject);
    });
  }

  for (const [name, args, publishTo, lines] of [
    ['subscribe', ['subscribe', 'news'], 'news', 6],
    ['psubscribe', ['psubscribe', 'n*'], 'news', 7],
  ] as const) {
    it(`redis-cli ${name} prints the same as for Redis`, async () => {
      const printed = await Promise.all([redis.port, server.port].map(async (port) => {
        const publisher = await RawClient.connect(port);
        try {
          return await cliUntil(port, [...args], lines, async () => void (await publisher.request(command('PUBLISH', publishTo, 'hello there'))));
        } finally {
          publisher.destroy();
        }
      }));
      expect(printed[1]).toBe(printed[0]);
    });
  }
});
