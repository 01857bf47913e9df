// Step 06's snapshots next to real Redis: redis-check-rdb accepts what SAVE and BGSAVE write;
// a real redis-server started on our dump.rdb has the same keys, values and deadlines; we
// load what a real redis-server saved (every encoding it uses for strings) and serve the
// same; a dump holding a type we do not support is refused, naming the key and the type;
// and the snapshot commands reply as Redis's do.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { describeDifferential } from '../test/helpers/differential.ts';
import { captureLog } from '../test/helpers/logs.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { runProgram } from '../test/helpers/redis-tools.ts';
import { TARGET, spawnStep, startStep, type TestServer } from '../test/helpers/servers.ts';

const STEP = '06-rdb-snapshots';
const IN_2100 = String(Date.UTC(2100, 0, 1));

/** Values of every shape Redis stores differently in an RDB file. */
const VALUES: Array<[string, string]> = [
  ['short', 'v'],
  ['empty', ''],
  ['long', 'x'.repeat(100_000) + 'y'],
  ['compressible', 'abc'.repeat(1000)],
  ['random-ish', Array.from({ length: 300 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('')],
  ['binary\r\n\x00\xff', '\x00\x01\x02\r\n\xfe\xff'],
  ['int8', '-128'], ['int8-max', '127'], ['int16', '-32768'], ['int16-max', '32767'],
  ['int32', '-2147483648'], ['int32-max', '2147483647'], ['beyond-int32', '2147483648'],
  ['int64', '-9223372036854775808'], ['zero', '0'], ['negative-zero', '-0'], ['leading-zero', '0123'], ['plus', '+1'],
  ['float', '3.14'], ['huge-number', '123456789012345678901234567890'],
];

async function writeAll(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  const commands = VALUES.map(([k, v]) => command('SET', k, v));
  commands.push(command('SET', 'expiring', 'soon', 'PXAT', IN_2100), command('SET', 'expiring-int', '42', 'PXAT', String(Number(IN_2100) + 1)));
  await client.request(commands.join(''), commands.length);
  client.destroy();
}

/** Every key's value and deadline, as a client sees them. */
async function observe(port: number): Promise<string> {
  const keys = [...VALUES.map(([k]) => k), 'expiring', 'expiring-int'];
  const client = await RawClient.connect(port);
  try {
    const bytes = await client.request(keys.map((k) => command('GET', k) + command('PEXPIRETIME', k)).join('') + command('DBSIZE'), keys.length * 2 + 1);
    return bytes.toString('latin1');
  } finally {
    client.destroy();
  }
}

describeWithRedis(['redis-server', 'redis-check-rdb'], `${STEP}: snapshots in Redis's own format`, () => {
  let dir: string;
  let ours: TestServer | undefined;
  let redis: RealRedis | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'rdb-redis-'));
    for (const sub of ['ours', 'redis']) fs.mkdirSync(join(dir, sub));
  });
  afterEach(async () => {
    await ours?.close();
    await redis?.stop();
    ours = redis = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(TARGET === 'redis')('redis-check-rdb accepts what SAVE and BGSAVE write, and real Redis loads it', async () => {
    const log = captureLog();
    ours = await startStep(STEP, { dir: join(dir, 'ours'), save: [], loglevel: 'notice', logSink: log.sink });
    await writeAll(ours.port);
    const expected = await observe(ours.port);
    const client = await RawClient.connect(ours.port);
    await client.expectReply(command('SAVE'), '+OK\r\n');
    const file = join(dir, 'ours', 'dump.rdb');
    for (const save of ['SAVE', 'BGSAVE']) {
      if (save === 'BGSAVE') {
        fs.rmSync(file);
        await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
        await log.until(/Background saving terminated with success/);
      }
      const check = await runProgram('redis-check-rdb', [file]);
      expect(check.stdout, check.stdout).toContain('RDB looks OK!');
      expect(check.stdout).toMatch(/\[info\] 22 keys read/);
    }
    client.destroy();
    fs.copyFileSync(file, join(dir, 'redis', 'dump.rdb'));
    redis = await startRealRedis([], join(dir, 'redis'));
    expect(await observe(redis.port)).toBe(expected);
  });

  it.skipIf(TARGET === 'redis')('loads what a real redis-server saved, and serves the same values and deadlines', async () => {
    redis = await startRealRedis([], join(dir, 'redis'));
    await writeAll(redis.port);
    const expected = await observe(redis.port);
    const client = await RawClient.connect(redis.port);
    await client.expectReply(command('SAVE'), '+OK\r\n');
    client.destroy();
    fs.copyFileSync(join(dir, 'redis', 'dump.rdb'), join(dir, 'ours', 'dump.rdb'));
    ours = await startStep(STEP, { dir: join(dir, 'ours'), save: [] });
    expect(await observe(ours.port)).toBe(expected);
  });

  it.skipIf(TARGET === 'redis')('refuses a real dump holding a list, naming the key and the type', async () => {
    redis = await startRealRedis([], join(dir, 'redis'));
    const client = await RawClient.connect(redis.port);
    await client.request(command('SET', 'fine', 'v') + command('RPUSH', 'queue:jobs', 'a', 'b') + command('SAVE'), 3);
    client.destroy();
    fs.copyFileSync(join(dir, 'redis', 'dump.rdb'), join(dir, 'ours', 'dump.rdb'));
    const attempt = await spawnStep(STEP, ['--dir', join(dir, 'ours')]).then((s) => (s.kill(), 'it started'), (err: Error) => err.message);
    expect(attempt).toMatch(/Can't load dump\.rdb: Can't load key "queue:jobs" at byte \d+: its value is a list \(quicklist[^)]*\), and only strings are supported/);
  });
});

// The snapshot commands' replies and errors, byte for byte (both servers save in their own
// temporary directory; real Redis is started without save points, so ours is too).
const diffDir = fs.mkdtempSync(join(tmpdir(), 'rdb-diff-'));
afterAll(() => fs.rmSync(diffDir, { recursive: true, force: true }));
describeDifferential(STEP, [
  { name: 'SAVE', send: [['SET', 'k', 'v'], ['SAVE']] },
  { name: 'SAVE with an argument', send: [['SAVE', 'now']] },
  { name: 'BGSAVE with a bad argument', send: [['BGSAVE', 'now'], ['BGSAVE', 'SCHEDULE', 'x']] },
  { name: 'LASTSAVE with an argument', send: [['LASTSAVE', 'x']] },
  { name: 'SAVE inside MULTI', send: [['MULTI'], ['SET', 'k', 'v'], ['SAVE'], ['EXEC'], ['GET', 'k']] },
  { name: 'LASTSAVE inside MULTI is queued', send: [['MULTI'], ['LASTSAVE'], ['DISCARD']] },
  { name: 'CONFIG GET save and dbfilename', send: [['CONFIG', 'GET', 'save'], ['CONFIG', 'GET', 'dbfilename'], ['CONFIG', 'GET', 'appendonly']] },
], { dir: diffDir, save: [] });
