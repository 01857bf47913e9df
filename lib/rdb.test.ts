// The RDB codec as a whole: what the encoder writes, the decoder reads back; and next to
// real Redis, redis-check-rdb and redis-server read what we write, and we read what Redis
// writes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RdbEntry } from './rdb.ts';
import { encodeRdb } from './rdb-encoder.ts';
import type { RespValue } from './resp.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { FIXED, SAMPLE, decodeError, encode, entriesOf, entry, events, snapshot } from '../test/helpers/rdb-files.ts';
import { runProgram } from '../test/helpers/redis-tools.ts';

// ---------------------------------------------------------------------------------------
// Round trips

describe('what RdbEncoder writes, RdbDecoder reads back', () => {
  it.each<[string, RdbEntry[]]>([
    ['an empty database', []],
    ['the sample keys (binary, empty, integers, deadlines)', SAMPLE],
    ['every byte value in keys and values', Array.from({ length: 256 }, (_, i) => entry(String.fromCharCode(i) + 'k', String.fromCharCode(255 - i).repeat(i)))],
    ['large values, random and repetitive', [entry('random', randomBytes(300_000).toString('latin1')), entry('same', 'z'.repeat(1_000_000))]],
    ['integer-looking values', ['0', '-0', '1', '+1', '0123', '-128', '2147483648', '-9223372036854775808', '18446744073709551616'].map((v, i) => entry(`n${i}`, v))],
    ['deadlines at the edges of 64 bits', [entry('a', '1', 0n), entry('b', '2', 1n), entry('c', '3', 2n ** 63n - 1n), entry('d', '4', -1n)]],
  ])('%s', (_, entries) => {
    for (const compression of [true, false]) {
      const file = encode(entries, { compression });
      expect(entriesOf(file)).toEqual(entries);
      expect(events(file).at(-1)).toEqual({ type: 'end', checksum: 'verified' });
    }
  });

  it('reports the header, aux fields, SELECTDB and RESIZEDB as events, in file order', () => {
    const types = events(encodeRdb({ ...snapshot(SAMPLE), db: 3 }, FIXED)).map((e) => (e.type === 'select-db' ? `db ${e.db}` : e.type));
    expect(types.slice(0, 9)).toEqual(['header', 'aux', 'aux', 'aux', 'aux', 'aux', 'db 3', 'resize-db', 'entry']);
    expect(types.at(-1)).toBe('end');
  });
});

// ---------------------------------------------------------------------------------------
// Real Redis

/** One command to a server; the reply as a value. */
async function call(client: RawClient, ...args: string[]): Promise<RespValue> {
  client.send(command(...args));
  return (await client.readReplies(1)).values[0]!;
}

/** Writes `entries` with SET and PEXPIREAT (binary-safe: raw RESP). */
async function store(client: RawClient, entries: RdbEntry[]): Promise<void> {
  for (const e of entries) {
    expect(await call(client, 'SET', e.key, e.value)).toEqual({ type: 'simple', value: 'OK' });
    if (e.deadline !== null) expect(await call(client, 'PEXPIREAT', e.key, String(e.deadline))).toEqual({ type: 'integer', value: 1 });
  }
}

/** The keys, values and deadlines a real server holds for `keys`. */
async function fetchEntries(client: RawClient, keys: string[]): Promise<RdbEntry[]> {
  const out: RdbEntry[] = [];
  for (const key of keys) {
    const value = await call(client, 'GET', key);
    const expiry = await call(client, 'PEXPIRETIME', key);
    if (value.type !== 'bulk' || value.value === null || expiry.type !== 'integer') throw new Error(`key ${JSON.stringify(key)} is missing`);
    out.push(entry(key, value.value, expiry.value === -1 ? null : BigInt(expiry.value)));
  }
  return out;
}

const sortByKey = (entries: RdbEntry[]): RdbEntry[] => [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Keys meant to exercise every encoding Redis writes, with deadlines an hour or more away. */
function interopEntries(): RdbEntry[] {
  const later = BigInt(Date.now()) + 3_600_000n;
  const numbers = ['0', '1', '-1', '127', '128', '-128', '-129', '32767', '32768', '-32768', '-32769', '2147483647', '2147483648',
    '-2147483648', '-2147483649', '9223372036854775807', '-9223372036854775808', '0123', '-0', '+1', '007'];
  return [
    entry('short', 'hello'),
    entry('long', randomBytes(5000).toString('latin1'), later),
    entry('compressible', 'the same words again, '.repeat(200), later + 1n),
    entry('compressible-key:'.repeat(5), 'x'),
    entry('empty', ''),
    entry('', 'empty key'),
    entry('binary\x00\xff\r\n', '\x00\x01\x02\x80\xff'),
    entry('64', '65', later + 2n),
    entry('boundary-63', 'y'.repeat(63)),
    entry('boundary-64', 'y'.repeat(64)),
    entry('boundary-16384', randomBytes(16384).toString('latin1')),
    ...numbers.map((n, i) => entry(`num:${i}`, n, i % 2 === 0 ? later + BigInt(i) : null)),
  ];
}

describeWithRedis(['redis-server', 'redis-check-rdb'], 'the RDB codec next to real Redis 7.0', () => {
  let dir: string;
  let redis: RealRedis | undefined;
  let client: RawClient | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'rdb-codec-'));
  });
  afterEach(async () => {
    client?.destroy();
    client = undefined;
    await redis?.stop();
    redis = undefined;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts a real redis-server in its own directory, loading `dbfilename` if it exists. */
  async function startRedis(name: string, dbfilename = 'dump.rdb'): Promise<string> {
    const redisDir = join(dir, name);
    fs.mkdirSync(redisDir, { recursive: true });
    redis = await startRealRedis(['--dbfilename', dbfilename], redisDir);
    client = await RawClient.connect(redis.port);
    return redisDir;
  }

  it('redis-check-rdb accepts every file the encoder writes', async () => {
    const files: Array<[string, Buffer]> = [
      ['empty', encode([])],
      ['interop', encode(interopEntries())],
      ['uncompressed', encode(interopEntries(), { compression: false })],
      ['no-checksum', encode(SAMPLE, { checksum: false })],
      ['replication', encode(SAMPLE, { replication: { streamDb: 0, replId: 'f'.repeat(40), offset: 999 } })],
      ['big', encode([entry('big', 'abc'.repeat(1_000_000)), entry('bigrandom', randomBytes(100_000).toString('latin1'))])],
    ];
    for (const [name, file] of files) {
      const path = join(dir, `${name}.rdb`);
      fs.writeFileSync(path, file);
      const check = await runProgram('redis-check-rdb', [path]);
      expect(check.stdout, name).toContain('RDB looks OK!');
      expect(check.code, name).toBe(0);
    }
  });

  it('a real redis-server loads a dump we wrote: same keys, values and deadlines', async () => {
    const entries = interopEntries();
    const redisDir = join(dir, 'load-ours');
    fs.mkdirSync(redisDir);
    fs.writeFileSync(join(redisDir, 'ours.rdb'), encode(entries));
    await startRedis('load-ours', 'ours.rdb');
    expect(await call(client!, 'DBSIZE')).toEqual({ type: 'integer', value: entries.length });
    expect(await fetchEntries(client!, entries.map((e) => e.key))).toEqual(entries);
    // It read our LZF: the compressible value is not in the file as plain text.
    expect(fs.readFileSync(join(redisDir, 'ours.rdb')).includes(Buffer.from('the same words again, '.repeat(3)))).toBe(false);
  });

  it('reads the dump.rdb a real redis-server writes with SAVE: same keys, values and deadlines', async () => {
    const entries = interopEntries();
    const redisDir = await startRedis('redis-writes');
    await store(client!, entries);
    expect(await call(client!, 'SAVE')).toEqual({ type: 'simple', value: 'OK' });
    const dump = fs.readFileSync(join(redisDir, 'dump.rdb'));
    // Redis used its integer and LZF encodings, so those are what we read.
    expect(dump.includes(Buffer.from('the same words again, '.repeat(3)))).toBe(false);
    expect(dump.includes(Buffer.from([0xc2, 0xff, 0xff, 0xff, 0x7f]))).toBe(true); // 2147483647
    const loaded = events(dump);
    expect(sortByKey(loaded.flatMap((e) => (e.type === 'entry' ? [entry(e.key, e.value, e.deadline)] : [])))).toEqual(sortByKey(entries));
    expect(loaded[0]).toEqual({ type: 'header', version: 10 });
    expect(loaded).toContainEqual({ type: 'aux', name: 'redis-ver', value: '7.0.15' });
    expect(loaded.at(-1)).toEqual({ type: 'end', checksum: 'verified' });
  });

  it.each([
    ['RPUSH', 'list (quicklist v2)'],
    ['HSET', 'hash (listpack)'],
    ['SADD', 'set (intset)'],
  ])('refuses a real dump holding a %s key, naming the key and its type', async (push, name) => {
    const redisDir = await startRedis(`refuse-${push}`);
    const key = 'not\x00a string';
    await call(client!, push, key, ...(push === 'HSET' ? ['field', 'value'] : ['1']));
    expect(await call(client!, 'SAVE')).toEqual({ type: 'simple', value: 'OK' });
    const dump = fs.readFileSync(join(redisDir, 'dump.rdb'));
    const error = decodeError(dump);
    expect(error.message).toMatch(new RegExp(`^Can't load key "not\\\\x00a string" at byte \\d+: its value is a ${name.replace(/[()]/g, '\\$&')}, and only strings are supported$`));
    expect(dump[error.offset]).not.toBe(0); // the offset points at the type byte
  });
});
