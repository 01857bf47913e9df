// Step 05's AOF next to real Redis: redis-check-aof accepts our file, a real redis-server
// loads it (Redis 7 turns an old single-file AOF into its multi-part layout) and has the
// same keys, values and deadlines, and for the same commands Redis logs the same commands.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { commandsInAof as commandsIn } from '../test/helpers/aof-file.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { TARGET, startStep, type TestServer } from '../test/helpers/servers.ts';

const STEP = '05-aof-persistence';
const IN_2100 = String(Date.UTC(2100, 0, 1));

/** Writes of every kind the AOF logs differently, and reads and no-ops it never logs. */
const WORKLOAD: string[][] = [
  ['FLUSHALL'],
  ['SET', 'plain', 'v'],
  ['set', 'lower', 'v', 'nx'],
  ['SET', 'plain', 'w', 'NX'],
  ['GET', 'plain'],
  ['SET', 'bin\r\n\x00\xff', '\x00\x01\r\n\xfe'],
  ['SET', 'ex', 'v', 'EX', '1000'],
  ['SET', 'px', 'v', 'PX', '500000', 'GET'],
  ['SET', 'at', 'v', 'PXAT', IN_2100],
  ['SET', 'got', 'old'],
  ['SET', 'got', 'new', 'GET'],
  ['SET', 'got', 'newer', 'KEEPTTL'],
  ['SETEX', 'setex', '100', 'v'],
  ['PSETEX', 'psetex', '100000', 'v'],
  ['EXPIRE', 'plain', '300'],
  ['EXPIRE', 'plain', '400', 'NX'],
  ['PEXPIRE', 'plain', '500000', 'GT'],
  ['EXPIREAT', 'lower', String(Date.UTC(2100, 0, 1) / 1000)],
  ['PEXPIREAT', 'got', IN_2100, 'NX'],
  ['EXPIRE', 'missing', '10'],
  ['GETEX', 'setex', 'EX', '2000'],
  ['GETEX', 'psetex', 'PXAT', IN_2100],
  ['GETEX', 'at', 'PERSIST'],
  ['GETEX', 'at', 'PERSIST'],
  ['GETEX', 'at'],
  ['SET', 'doomed', 'v'],
  ['GETEX', 'doomed', 'EXAT', '1'],
  ['SET', 'doomed2', 'v'],
  ['EXPIRE', 'doomed2', '-5'],
  ['SET', 'dead-on-arrival', 'v', 'PXAT', '1'],
  ['GET', 'dead-on-arrival'], // found expired: logged as DEL by both
  ['PERSIST', 'plain'],
  ['PERSIST', 'plain'],
  ['INCR', 'n'],
  ['INCRBY', 'n', '10'],
  ['DECR', 'n'],
  ['DECRBY', 'n', '3'],
  ['INCR', 'plain'],
  ['INCRBYFLOAT', 'f', '10.5'],
  ['INCRBYFLOAT', 'f', '0.1'],
  ['INCRBYFLOAT', 'f', '5.0e3'],
  ['APPEND', 'app', 'abc'],
  ['APPEND', 'app', 'def'],
  ['GETSET', 'app', 'replaced'],
  ['GETDEL', 'app'],
  ['GETDEL', 'app'],
  ['MSET', 'm1', '1', 'm2', '2'],
  ['MSETNX', 'm2', 'x', 'm3', '3'],
  ['MSETNX', 'm3', '3', 'm4', '4'],
  ['SETNX', 'm1', 'x'],
  ['SETNX', 'm5', '5'],
  ['DEL', 'm1', 'missing', 'm2'],
  ['DEL', 'missing'],
  ['EXISTS', 'm3'],
  ['TTL', 'ex'],
  ['PEXPIRETIME', 'ex'],
  ['MGET', 'm3', 'm4'],
  ['STRLEN', 'm3'],
  // Transactions: several writes are one MULTI ... EXEC block; one write is logged alone;
  // reads, no-ops, a runtime error's slot and a discarded or aborted transaction add nothing.
  ['MULTI'],
  ['SET', 'tx1', 'a'],
  ['INCR', 'tx-n'],
  ['SET', 'tx2', 'b', 'EX', '100'],
  ['GET', 'tx1'],
  ['EXEC'],
  ['MULTI'],
  ['SET', 'tx-single', 'v'],
  ['GET', 'tx1'],
  ['EXEC'],
  ['MULTI'],
  ['GET', 'tx1'],
  ['SET', 'tx1', 'x', 'NX'],
  ['EXEC'],
  ['MULTI'],
  ['SET', 'tx3', '1'],
  ['INCR', 'tx1'],
  ['APPEND', 'tx3', '2'],
  ['EXEC'],
  ['MULTI'],
  ['SET', 'tx4', '1'],
  ['BOGUS'],
  ['EXEC'],
  ['MULTI'],
  ['SET', 'tx5', '1'],
  ['DISCARD'],
  ['WATCH', 'tx1'],
  ['SET', 'tx1', 'changed'],
  ['MULTI'],
  ['SET', 'tx6', '1'],
  ['EXEC'],
  // A key found expired by a write: its DEL and the write are one unit, wrapped (Redis 7.0).
  ['SET', 'lazy', 'v', 'PXAT', '1'],
  ['SET', 'lazy', 'w'],
];

/** Deadlines computed from "now" differ by a few ms between two servers: blur them. */
function blurNow(commands: string[][]): string[][] {
  return commands.map((args) => args.map((a) => (/^\d{13}$/.test(a) && Math.abs(Number(a) - Date.now()) < 1e7 ? '<now + ttl>' : a)));
}

/** Sends the commands one by one; returns the replies, deadlines near now blurred. */
async function run(port: number, commands: string[][]): Promise<string> {
  const client = await RawClient.connect(port);
  let replies = '';
  try {
    for (const args of commands) replies += (await client.request(command(...args))).toString('latin1');
  } finally {
    client.destroy();
  }
  return replies.replace(/:(\d{13})\r\n/g, (all, n: string) => (Math.abs(Number(n) - Date.now()) < 1e7 ? ':<now + ttl>\r\n' : all));
}

async function observe(port: number, keys: string[]): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    const bytes = await client.request(keys.map((k) => command('GET', k) + command('PEXPIRETIME', k)).join(''), keys.length * 2);
    return bytes.toString('latin1');
  } finally {
    client.destroy();
  }
}

async function keysOf(port: number): Promise<string[]> {
  const client = await RawClient.connect(port);
  client.send(command('KEYS', '*'));
  const [reply] = (await client.readReplies(1)).values;
  client.destroy();
  return reply?.type === 'array' ? reply.items!.map((item) => (item.type === 'bulk' ? item.value! : '')) : [];
}

describeWithRedis(['redis-server', 'redis-check-aof'], '05-aof-persistence: the AOF is Redis\'s own format', () => {
  let dir: string;
  let ours: TestServer | undefined;
  let redis: RealRedis | undefined;
  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'aof-redis-'));
    fs.mkdirSync(join(dir, 'ours'));
    fs.mkdirSync(join(dir, 'redis'));
    ours = TARGET === 'redis' ? undefined : await startStep(STEP, { dir: join(dir, 'ours'), appendfsync: 'always' });
  });
  afterEach(async () => {
    await ours?.close();
    await redis?.stop();
    ours = redis = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(TARGET === 'redis')('is accepted by redis-check-aof', async () => {
    await run(ours!.port, WORKLOAD);
    const file = join(dir, 'ours', 'appendonly.aof');
    const check = spawnSync('redis-check-aof', [file], { encoding: 'latin1' });
    expect(check.stdout).toContain(`AOF ${file} is valid`);
    expect(check.status).toBe(0);
  });

  it.skipIf(TARGET === 'redis')('loads into a real redis-server with the same keys, values and deadlines', async () => {
    await run(ours!.port, WORKLOAD);
    const keys = (await keysOf(ours!.port)).sort();
    expect(keys.length).toBeGreaterThan(10);
    const expected = await observe(ours!.port, keys);
    fs.copyFileSync(join(dir, 'ours', 'appendonly.aof'), join(dir, 'redis', 'appendonly.aof'));
    redis = await startRealRedis(['--appendonly', 'yes'], join(dir, 'redis'));
    expect(await observe(redis.port, keys)).toBe(expected);
    // Redis 7 moved our file into its multi-part layout: it is now the base of appendonlydir/.
    expect(fs.readFileSync(join(dir, 'redis', 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toContain('file appendonly.aof seq 1 type b');
  });

  it.skipIf(TARGET === 'redis')('loads an AOF written by real Redis, transactions included, to the same keys', async () => {
    redis = await startRealRedis(['--appendonly', 'yes', '--appendfsync', 'always'], join(dir, 'redis'));
    await run(redis.port, WORKLOAD);
    const keys = (await keysOf(redis.port)).sort();
    const expected = await observe(redis.port, keys);
    const theirs = join(dir, 'redis', 'appendonlydir', 'appendonly.aof.1.incr.aof');
    expect(commandsIn(theirs).filter(([name]) => name === 'MULTI')).toHaveLength(3);
    await ours!.close();
    fs.copyFileSync(theirs, join(dir, 'ours', 'appendonly.aof'));
    ours = await startStep(STEP, { dir: join(dir, 'ours') });
    expect((await keysOf(ours.port)).sort()).toEqual(keys);
    expect(await observe(ours.port, keys)).toBe(expected);
  });

  it.skipIf(TARGET === 'redis')('drops a transaction torn at the tail where redis-check-aof --fix cuts it', async () => {
    await run(ours!.port, [['SET', 'before', '1'], ['MULTI'], ['SET', 'a', '1'], ['SET', 'b', '2'], ['EXEC']]);
    await ours!.close();
    const file = join(dir, 'ours', 'appendonly.aof');
    const whole = fs.readFileSync(file);
    const multiAt = whole.indexOf(command('MULTI'));
    const torn = whole.subarray(0, whole.length - command('EXEC').length - 3); // a crash inside the block's write
    const copy = join(dir, 'redis', 'torn.aof');
    fs.writeFileSync(copy, torn);
    const check = spawnSync('redis-check-aof', ['--fix', copy], { encoding: 'latin1', input: 'y\n' });
    expect(check.stdout).toContain('Successfully truncated AOF');
    expect(fs.statSync(copy).size).toBe(multiAt);
    fs.writeFileSync(file, torn);
    ours = await startStep(STEP, { dir: join(dir, 'ours') });
    expect(fs.readFileSync(file)).toEqual(fs.readFileSync(copy));
    expect(await observe(ours.port, ['before', 'a', 'b'])).toBe('$1\r\n1\r\n:-1\r\n$-1\r\n:-2\r\n$-1\r\n:-2\r\n');
  });

  it.skipIf(TARGET === 'redis')('replies as Redis does, and logs the same commands Redis logs', async () => {
    redis = await startRealRedis(['--appendonly', 'yes', '--appendfsync', 'always'], join(dir, 'redis'));
    expect(await run(ours!.port, WORKLOAD)).toBe(await run(redis.port, WORKLOAD));
    const theirs = commandsIn(join(dir, 'redis', 'appendonlydir', 'appendonly.aof.1.incr.aof'));
    expect(blurNow(commandsIn(join(dir, 'ours', 'appendonly.aof')))).toEqual(blurNow(theirs));
  });
});
