// Step 06's server in this process, with a fake clock and a temporary --dir: what SAVE and
// BGSAVE write, that a BGSAVE holds exactly the data of the moment it started however the
// keyspace changes while it runs, save points, failures, and what a restart loads.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import type { RdbEntry } from '../lib/rdb.ts';
import { encodeRdb } from '../lib/rdb-encoder.ts';
import { decodeRdb } from '../lib/rdb-decoder.ts';
import type { RespValue } from '../lib/resp.ts';
import { captureLog, type CapturedLog } from '../test/helpers/logs.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { TARGET, startStep, type StepOptions, type TestServer } from '../test/helpers/servers.ts';

const STEP = '06-rdb-snapshots';
const T = Date.UTC(2030, 0, 1); // the fake clock's start, in Unix ms

describe.skipIf(TARGET === 'redis')(`${STEP}: snapshots`, () => {
  let dir: string;
  let clock: FakeClock;
  let server: TestServer | undefined;
  let client: RawClient;
  let log: CapturedLog;

  async function start(options: StepOptions<typeof STEP> = {}): Promise<RawClient> {
    await stop();
    server = await startStep(STEP, { dir, clock, save: [], loglevel: 'notice', logSink: log.sink, ...options });
    client = await RawClient.connect(server.port);
    return client;
  }

  async function stop(): Promise<void> {
    client?.destroy();
    await server?.close();
    server = undefined;
  }

  async function call(...args: string[]): Promise<RespValue> {
    client.send(command(...args));
    return (await client.readReplies(1)).values[0]!;
  }

  async function info(field: string): Promise<string | undefined> {
    const text = (await client.request(command('INFO', 'persistence'))).toString('latin1');
    return new RegExp(`^${field}:(.*)\r$`, 'm').exec(text)?.[1];
  }

  const dumpPath = () => join(dir, 'dump.rdb');

  /** The keys of dump.rdb, sorted, as [key, value, deadline]. */
  function dumped(path = dumpPath()): Array<[string, string, string]> {
    const entries = [...decodeRdb(fs.readFileSync(path))].filter((e): e is { type: 'entry' } & RdbEntry => e.type === 'entry');
    return entries.map((e) => [e.key, e.value, String(e.deadline)] as [string, string, string]).sort(([a], [b]) => (a < b ? -1 : 1));
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'rdb-'));
    clock = new FakeClock(T);
    log = captureLog();
  });
  afterEach(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SAVE writes every key and deadline, binary-safe; LASTSAVE and INFO follow', async () => {
    await start();
    expect(await info('rdb_changes_since_last_save')).toBe('0');
    await client.expectReply(
      command('SET', 'a', '1') + command('SET', 'bin\r\n\x00\xff', '\x00\xfe\r\n') + command('SET', 'ttl', 'v', 'PX', '5000') + command('SET', 'n', '12345'),
      '+OK\r\n+OK\r\n+OK\r\n+OK\r\n',
    );
    expect(await info('rdb_changes_since_last_save')).toBe('5');
    clock.setWallClock(T + 60_000);
    await client.expectReply(command('SAVE'), '+OK\r\n');
    expect(dumped()).toEqual([['a', '1', 'null'], ['bin\r\n\x00\xff', '\x00\xfe\r\n', 'null'], ['n', '12345', 'null'], ['ttl', 'v', String(T + 5000)]]);
    expect(await call('LASTSAVE')).toEqual({ type: 'integer', value: (T + 60_000) / 1000 });
    expect(await info('rdb_changes_since_last_save')).toBe('0');
    expect(await info('rdb_saves')).toBe('1');
    expect(fs.readdirSync(dir)).toEqual(['dump.rdb']); // no temp file left behind
  });

  it('BGSAVE writes the same in the background; a second one, or SAVE, waits its turn', async () => {
    await start({ bgsaveSliceEntries: 1 });
    await client.expectReply(command('MSET', 'a', '1', 'b', '2', 'c', '3'), '+OK\r\n');
    const done = log.until(/Background saving terminated with success/);
    await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
    await client.expectReply(
      command('BGSAVE') + command('BGSAVE', 'SCHEDULE') + command('SAVE') + command('BGSAVE', 'NOW'),
      '-ERR Background save already in progress\r\n'.repeat(3) + '-ERR syntax error\r\n',
    );
    expect(await info('rdb_bgsave_in_progress')).toBe('1');
    await done;
    expect(await info('rdb_bgsave_in_progress')).toBe('0');
    expect(await info('rdb_last_bgsave_status')).toBe('ok');
    expect(dumped()).toEqual([['a', '1', 'null'], ['b', '2', 'null'], ['c', '3', 'null']]);
  });

  it('inside a transaction, SAVE is refused and BGSAVE is scheduled for the cron', async () => {
    await start();
    await client.expectReply(
      command('MULTI') + command('SAVE') + command('EXEC'),
      '+OK\r\n-ERR Command not allowed inside a transaction\r\n-EXECABORT Transaction discarded because of previous errors.\r\n',
    );
    await client.expectReply(command('SET', 'k', 'v') + command('MULTI') + command('BGSAVE') + command('EXEC'), '+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+Background saving scheduled\r\n');
    expect(fs.existsSync(dumpPath())).toBe(false);
    const done = log.until(/Background saving terminated with success/);
    clock.advance(100); // one cron tick starts it
    await done;
    expect(dumped()).toEqual([['k', 'v', 'null']]);
  });

  describe('a BGSAVE holds exactly the data of the moment it started', () => {
    const KEYS = 2000;
    const keyName = (i: number) => `key:${i}`;

    async function fill(): Promise<Array<[string, string, string]>> {
      const args = ['MSET'];
      for (let i = 0; i < KEYS; i++) args.push(keyName(i), `v${i}`);
      await client.expectReply(command(...args), '+OK\r\n');
      await client.expectReply(command('PEXPIRE', keyName(0), '100000') + command('PEXPIRE', keyName(1), '50'), ':1\r\n:1\r\n');
      await client.expectReply(command('SET', 'expired-already', 'x', 'PXAT', '1'), '+OK\r\n');
      return [
        ...Array.from({ length: KEYS }, (_, i) => [keyName(i), `v${i}`, i === 0 ? String(T + 100_000) : i === 1 ? String(T + 50) : 'null'] as [string, string, string]),
        ['expired-already', 'x', '1'] as [string, string, string],
      ].sort(([a], [b]) => (a < b ? -1 : 1));
    }

    it('while clients overwrite, delete, expire, persist, append, increment and create keys', async () => {
      await start({ bgsaveSliceEntries: 7 });
      const before = await fill();
      const done = log.until(/Background saving terminated with success/);
      await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
      // One command per round trip, so slices of the save run in between them.
      const writes: string[][] = [];
      for (let i = 0; i < KEYS; i += 37) {
        writes.push(['SET', keyName(i), 'changed'], ['DEL', keyName(i + 1)], ['EXPIRE', keyName(i + 2), '1'], ['APPEND', keyName(i + 3), '+'],
          ['SET', keyName(i + 4), '7'], ['INCR', keyName(i + 4)], ['GETDEL', keyName(i + 5)], ['SET', `new:${i}`, 'x'], ['PERSIST', keyName(0)],
          ['DEL', keyName(i + 6)], ['SET', keyName(i + 6), 'back again'], ['SET', `gone:${i}`, 'x'], ['DEL', `gone:${i}`]);
      }
      writes.push(['GET', 'expired-already']); // lazily expired: deleted during the save
      for (const args of writes) await call(...args);
      clock.advance(200); // active expiry cycles run: key:1's deadline passes and it goes
      await done;
      expect(log.lines.some((l) => /Background saving started/.test(l))).toBe(true);
      expect(dumped()).toEqual(before);
      // And nothing written during the save was lost from the server.
      expect(await call('GET', keyName(0))).toEqual({ type: 'bulk', value: 'changed' });
      expect(await call('EXISTS', keyName(1), 'expired-already')).toEqual({ type: 'integer', value: 0 });
      expect(await call('GET', 'new:37')).toEqual({ type: 'bulk', value: 'x' });
      expect(await call('GET', keyName(4))).toEqual({ type: 'bulk', value: '8' });
      expect(await call('GET', keyName(6))).toEqual({ type: 'bulk', value: 'back again' });
    });

    it('keys deleted during the save are gone for clients at once, whatever the save still writes', async () => {
      await start({ bgsaveSliceEntries: 3 });
      const before = await fill();
      const done = log.until(/Background saving terminated with success/);
      await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
      await call('DEL', keyName(1500), keyName(1501));
      await call('SET', 'created', 'x');
      await call('DEL', 'created');
      expect(await call('DBSIZE')).toEqual({ type: 'integer', value: KEYS - 1 }); // expired-already is still stored
      expect(await call('EXISTS', keyName(1500), keyName(1501), 'created')).toEqual({ type: 'integer', value: 0 });
      const listed = await call('KEYS', 'key:150*');
      const stillThere = [keyName(150), ...[2, 3, 4, 5, 6, 7, 8, 9].map((d) => keyName(1500 + d))];
      expect(listed.type === 'array' && listed.items!.map((item) => (item as { value: string }).value).sort()).toEqual(stillThere.sort());
      await call('SET', keyName(1500), 'back');
      await done;
      expect(dumped()).toEqual(before);
      expect(await call('DBSIZE')).toEqual({ type: 'integer', value: KEYS });
    });

    it('while another client runs FLUSHDB and writes again', async () => {
      await start({ bgsaveSliceEntries: 5 });
      const before = await fill();
      const done = log.until(/Background saving terminated with success/);
      await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
      await call('SET', keyName(10), 'before the flush');
      await call('FLUSHDB');
      await call('SET', keyName(20), 'after the flush');
      await call('SET', 'fresh', 'y');
      await done;
      expect(dumped()).toEqual(before);
      expect(await call('DBSIZE')).toEqual({ type: 'integer', value: 2 });
    });

    it('a transaction run during the save is not in it, in part or whole', async () => {
      await start({ bgsaveSliceEntries: 3 });
      const before = await fill();
      const done = log.until(/Background saving terminated with success/);
      await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
      await client.expectReply(command('MULTI') + command('SET', keyName(1999), 'tx') + command('DEL', keyName(3)) + command('EXEC'), '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n');
      // A key deleted and set again inside one transaction, and one created and deleted.
      await client.expectReply(
        command('MULTI') + command('DEL', keyName(4)) + command('SET', keyName(4), 'tx') + command('SET', 'tx-only', 'x') + command('DEL', 'tx-only') + command('EXEC'),
        '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n:1\r\n+OK\r\n+OK\r\n:1\r\n',
      );
      await done;
      expect(dumped()).toEqual(before);
    });
  });

  it('FLUSHALL abandons a BGSAVE of data that no longer exists, and with save points saves the empty dataset', async () => {
    await start({ bgsaveSliceEntries: 5 });
    await client.expectReply(command('MSET', 'a', '1', 'b', '2') + command('SAVE'), '+OK\r\n+OK\r\n');
    const previous = fs.readFileSync(dumpPath());
    await client.expectReply(command('MSET', 'c', '3', 'd', '4'), '+OK\r\n');
    const abandoned = log.until(/Background saving abandoned/);
    await client.expectReply(command('BGSAVE') + command('FLUSHALL'), '+Background saving started\r\n+OK\r\n');
    await abandoned;
    expect(fs.readFileSync(dumpPath()), 'no save points: the last snapshot stays as it was').toEqual(previous);
    expect(await info('rdb_last_bgsave_status')).toBe('ok');
    expect(fs.readdirSync(dir)).toEqual(['dump.rdb']);

    await start({ bgsaveSliceEntries: 5, save: [{ seconds: 3600, changes: 1 }] });
    await client.expectReply(command('MSET', 'c', '3', 'd', '4') + command('BGSAVE') + command('FLUSHALL'), '+OK\r\n+Background saving started\r\n+OK\r\n');
    expect(dumped(), 'the flushed keys cannot come back from the snapshot').toEqual([]);
    await log.until(/Background saving abandoned/);
    expect(dumped()).toEqual([]);
  });

  it('save points: a BGSAVE once enough changes and enough seconds passed, as Redis counts them', async () => {
    await start({ save: [{ seconds: 10, changes: 2 }, { seconds: 100, changes: 1 }] });
    expect(await call('CONFIG', 'GET', 'save')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'save' }, { type: 'bulk', value: '10 2 100 1' }] });
    await call('SET', 'a', '1');
    await call('SET', 'b', '1');
    clock.advance(10_900);
    expect(fs.existsSync(dumpPath())).toBe(false); // two changes, but 10 whole seconds are not more than 10
    await call('DEL', 'b');
    clock.advance(1000);
    expect(fs.existsSync(dumpPath())).toBe(false); // still not: 3 changes
    const done = log.until(/Background saving terminated with success/);
    await done;
    expect(log.lines.some((l) => l.endsWith('* 2 changes in 10 seconds. Saving...'))).toBe(true);
    expect(dumped().map(([k]) => k)).toEqual(['a']);
    expect(await info('rdb_changes_since_last_save')).toBe('0');
    await call('SET', 'c', '3');
    clock.advance(50_000); // 1 change, 50 s: neither point
    expect(dumped().map(([k]) => k)).toEqual(['a']);
  });

  it('a failed BGSAVE is reported, and refuses writes (MISCONF) until a save succeeds', async () => {
    await start({ save: [{ seconds: 3600, changes: 1 }] });
    fs.mkdirSync(dumpPath()); // the rename over dump.rdb will fail
    await call('SET', 'a', '1');
    const failed = log.until(/Background saving error/);
    await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
    await failed;
    expect(await info('rdb_last_bgsave_status')).toBe('err');
    const misconf = (await client.request(command('SET', 'b', '2'))).toString('latin1');
    expect(misconf).toMatch(/^-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk\. /);
    await client.expectReply(command('PING'), misconf, 'PING is refused too, so health checks notice');
    await client.expectReply(command('GET', 'a'), '$1\r\n1\r\n', 'reads still work');
    await client.expectReply(command('SAVE'), '-ERR\r\n');
    expect(fs.readdirSync(dir)).toEqual(['dump.rdb']); // the temp file was removed
    fs.rmdirSync(dumpPath());
    await client.expectReply(command('SAVE') + command('SET', 'b', '2'), '+OK\r\n+OK\r\n', 'a successful SAVE ends MISCONF, as in Redis');
    expect(await info('rdb_last_bgsave_status')).toBe('ok');
    expect(await info('rdb_saves')).toBe('3'); // attempts, as Redis counts them
  });

  it('a restart loads the snapshot; a key whose deadline passed while down stays dead', async () => {
    await start();
    await client.expectReply(command('SET', 'forever', 'v') + command('SET', 'soon', 'v', 'PX', '1000') + command('SET', 'later', 'v', 'PX', '100000') + command('SAVE'), '+OK\r\n'.repeat(4));
    await stop();
    clock.advance(5000);
    await start();
    expect(await call('MGET', 'forever', 'soon', 'later')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'v' }, { type: 'bulk', value: null }, { type: 'bulk', value: 'v' }] });
    expect(await call('PEXPIRETIME', 'later')).toEqual({ type: 'integer', value: T + 100_000 });
    expect(await info('rdb_last_load_keys_loaded')).toBe('2');
    expect(await info('rdb_last_load_keys_expired')).toBe('1');
    expect(await info('rdb_changes_since_last_save')).toBe('0');
    expect(log.lines.some((l) => l.endsWith('* Done loading RDB, keys loaded: 2, keys expired: 1.'))).toBe(true);
    expect(log.lines.some((l) => /\* DB loaded from disk: \d+\.\d{3} seconds$/.test(l))).toBe(true);
  });

  it('with appendonly yes the AOF is loaded, not the snapshot', async () => {
    await start({ appendonly: true });
    await client.expectReply(command('SET', 'from-aof', '1'), '+OK\r\n');
    fs.writeFileSync(dumpPath(), encodeRdb({ entries: [{ key: 'from-rdb', value: '1', deadline: null }], keys: 1, expires: 0 }));
    await start({ appendonly: true });
    expect(await call('KEYS', '*')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'from-aof' }] });
    expect(log.lines.some((l) => l.includes('DB loaded from append only file'))).toBe(true);
  });

  it('refuses to start on a snapshot it cannot load whole, saying why', async () => {
    const entry = (key: string): RdbEntry => ({ key, value: 'v', deadline: null });
    const good = encodeRdb({ entries: [entry('a'), entry('b')], keys: 2, expires: 0 });
    const cases: Array<[Buffer, RegExp]> = [
      [good.subarray(0, good.length - 12), /^Can't load dump\.rdb: .*truncated at byte \d+/],
      [Buffer.concat([good.subarray(0, 40), Buffer.from([good[40]! ^ 0x01]), good.subarray(41)]), /^Can't load dump\.rdb: /],
      [encodeRdb({ entries: [entry('a'), entry('a')], keys: 2, expires: 0 }), /^dump\.rdb holds the key "a" twice$/],
      [encodeRdb({ entries: [entry('a')], keys: 1, expires: 0, db: 3 }), /^dump\.rdb holds database 3, and this server has only database 0$/],
    ];
    for (const [file, reason] of cases) {
      fs.writeFileSync(dumpPath(), file);
      await expect(start(), reason.source).rejects.toThrow(reason);
    }
  });

  it('reports its settings: appendonly no and Redis\'s save points by default, dbfilename', async () => {
    server = await startStep(STEP, { dir, clock });
    client = await RawClient.connect(server.port);
    expect(await call('CONFIG', 'GET', 'save')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'save' }, { type: 'bulk', value: '3600 1 300 100 60 10000' }] });
    expect(await call('CONFIG', 'GET', 'appendonly')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'appendonly' }, { type: 'bulk', value: 'no' }] });
    expect(await call('CONFIG', 'GET', 'dbfilename')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'dbfilename' }, { type: 'bulk', value: 'dump.rdb' }] });
    await start({ dbfilename: 'mine.rdb' });
    await client.expectReply(command('SET', 'a', '1') + command('SAVE'), '+OK\r\n+OK\r\n');
    expect(dumped(join(dir, 'mine.rdb'))).toEqual([['a', '1', 'null']]);
  });
});
