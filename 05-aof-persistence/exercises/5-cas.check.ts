// Exercise 5: check-and-set with WATCH, MULTI and EXEC, from ioredis.
// Run: make check STEP=05 EX=5 (TARGET=redis runs your helper against a real redis-server).
//
// Your 05-aof-persistence/cas.ts exports update(redis, key, change). The check runs it
// against the step's server: with a rival client that writes at the worst moment, with
// eight clients at once, and with a change that fails.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serverPath, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const STEP = '05-aof-persistence';
const EXERCISE = basename(fileURLToPath(import.meta.url), '.check.ts');

type Update = (redis: Redis, key: string, change: (value: string | null) => string | Promise<string>) => Promise<string>;

/** The learner's helper (or, under `make exercises`, the solution's). */
async function loadUpdate(): Promise<Update> {
  const path = join(dirname(serverPath(STEP, EXERCISE)), 'cas.ts');
  if (!fs.existsSync(path)) {
    throw new Error(`no ${STEP}/cas.ts yet: create it, exporting update(redis, key, change) (see EXERCISES.md, exercise 5)`);
  }
  const module = (await import(pathToFileURL(path).href)) as { update?: unknown };
  if (typeof module.update !== 'function') throw new Error(`${STEP}/cas.ts must export a function named update(redis, key, change)`);
  return module.update as Update;
}

describe('exercise 5: check-and-set with WATCH', () => {
  let dir: string;
  let server: TestServer;
  let clients: Redis[];
  let update: Update;

  async function connect(): Promise<Redis> {
    const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(redis);
    await redis.connect();
    return redis;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'cas-'));
    server = await startExerciseServer(import.meta.url, { dir });
    clients = [];
    update = await loadUpdate();
  });
  afterEach(async () => {
    for (const redis of clients) redis.disconnect();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the value, applies the change, writes the result and returns it', async () => {
    const redis = await connect();
    await redis.set('word', 'abc');
    expect(await update(redis, 'word', (value) => `${value}!`), 'update() resolves to the value it wrote').toBe('abc!');
    expect(await redis.get('word'), 'GET word after update(redis, "word", v => v + "!")').toBe('abc!');
    expect(await update(redis, 'fresh', (value) => (value === null ? 'first' : 'again')), 'a missing key reads as null').toBe('first');
    expect(await redis.get('fresh')).toBe('first');
  });

  it('retries when another client writes the key between the read and EXEC', async () => {
    const redis = await connect();
    const rival = await connect();
    await redis.set('counter', '0');
    const seen: Array<string | null> = [];
    const result = await update(redis, 'counter', async (value) => {
      seen.push(value);
      // The worst moment: after this client read the value, before its EXEC.
      if (seen.length === 1) await rival.incrby('counter', 100);
      return String(Number(value ?? 0) + 1);
    });
    const final = await redis.get('counter');
    expect(
      final,
      `the rival added 100 after your read of "0". "1" means its write was lost: WATCH the key before GET, so that EXEC ` +
        `fails (null) when anyone writes it in between. "100" means your EXEC failed and nothing was retried`,
    ).toBe('101');
    expect(seen, 'change() is called once per attempt, with the value read in that attempt: "0", then "100" after the retry').toEqual(['0', '100']);
    expect(result, 'update() resolves to the value it finally wrote').toBe('101');
  });

  it('loses no update when eight clients update the same key at once', async () => {
    const workers = await Promise.all(Array.from({ length: 8 }, () => connect()));
    await workers[0]!.set('counter', '0');
    await Promise.all(workers.map(async (redis) => {
      for (let i = 0; i < 25; i++) await update(redis, 'counter', (value) => String(Number(value ?? 0) + 1));
    }));
    expect(await workers[0]!.get('counter'), '8 clients x 25 increments each: every one must count').toBe('200');
  });

  it('leaves nothing watched when the change throws', async () => {
    const redis = await connect();
    const rival = await connect();
    await redis.set('k', 'v');
    await expect(update(redis, 'k', () => { throw new Error('cannot compute'); }), 'the change\'s error reaches the caller').rejects.toThrow('cannot compute');
    await rival.set('k', 'changed');
    expect(
      await redis.multi().set('other', '1').exec(),
      'this connection\'s next transaction failed (null): k was still watched. On an error, UNWATCH before you rethrow',
    ).not.toBeNull();
  });
});
