// Exercise 2: DEBUG RELOAD, a restart without the restart. Run: make check STEP=06 EX=2
//
// DEBUG RELOAD is Redis's (debug.c): TARGET=redis make check STEP=06 EX=2 runs the same check
// against a real redis-server, started with --enable-debug-command yes (Redis 7 refuses
// DEBUG by default).
//
// Your server runs on a FakeClock that never moves, so no active expiry cycle runs and a
// key already past its deadline stays stored until a command meets it. Against real Redis
// each scenario is sent in one write, which Redis runs without a cycle in between.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { decodeRdb } from '../../lib/rdb-decoder.ts';
import { expectContent } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startRealRedis } from '../../test/helpers/real-redis.ts';
import { TARGET, startExerciseServer } from '../../test/helpers/servers.ts';

const NOW = Date.now();
const IN_AN_HOUR = String(NOW + 3_600_000);
const OK = '+OK\r\n';

describe('exercise 2: DEBUG RELOAD', () => {
  let dir: string;
  let port: number;
  let stop: () => Promise<void>;
  let clients: RawClient[];
  let c: RawClient;

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'debug-reload-'));
    if (TARGET === 'redis') {
      const redis = await startRealRedis(['--enable-debug-command', 'yes'], dir);
      ({ port } = redis);
      stop = () => redis.stop();
    } else {
      const server = await startExerciseServer(import.meta.url, { dir, save: [], clock: new FakeClock(NOW) });
      ({ port } = server);
      stop = () => server.close();
    }
    clients = [];
    c = await connect();
  });
  afterEach(async () => {
    for (const client of clients) client.destroy();
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connect(): Promise<RawClient> {
    const client = await RawClient.connect(port);
    clients.push(client);
    return client;
  }

  async function info(field: string): Promise<string> {
    const text = (await c.request(command('INFO', 'persistence'))).toString('latin1');
    return new RegExp(`^${field}:(.*)\r$`, 'm').exec(text)?.[1] ?? `(no ${field} line)`;
  }

  /** Four live keys of every kind, and one already past its deadline: all stored. */
  const FIVE_KEYS =
    command('SET', 'greeting', 'hello') +
    command('SET', 'session', 'alice', 'PXAT', IN_AN_HOUR) +
    command('SET', 'visits', '12345') +
    command('SET', 'bin\r\n\x00', '\x00\xff\r\n') +
    command('SET', 'stale', 'x', 'PXAT', '1');

  it('replies +OK, and the dataset comes back with its values and deadlines', async () => {
    await c.expectReply(
      FIVE_KEYS + command('DEBUG', 'RELOAD'),
      OK.repeat(6),
      'add DEBUG, a container command with a RELOAD subcommand (persistence.ts holds the snapshot commands); it replies +OK',
    );
    await c.expectReply(
      command('GET', 'greeting') + command('PEXPIRETIME', 'session') + command('GET', 'visits') + command('GET', 'bin\r\n\x00'),
      `$5\r\nhello\r\n:${IN_AN_HOUR}\r\n$5\r\n12345\r\n$4\r\n\x00\xff\r\n\r\n`,
      'every key is loaded back from the file, with its deadline (":-1" is a key that lost its deadline on the way)',
    );
  });

  it('empties the dataset before loading: a key past its deadline is saved, and not loaded back', async () => {
    await c.expectReply(
      FIVE_KEYS + command('DBSIZE') + command('DEBUG', 'RELOAD') + command('DBSIZE'),
      OK.repeat(5) + ':5\r\n' + OK + ':4\r\n',
      '"stale" is stored (DBSIZE 5) but past its deadline. The save writes it, and the load skips it, as at a start: ' +
        'after the reload it is gone (DBSIZE 4). Still 5: the dataset was not emptied before loading, so "stale" stayed in memory',
    );
    const saved = [...decodeRdb(fs.readFileSync(join(dir, 'dump.rdb')))].flatMap((e) => (e.type === 'entry' ? [e.key] : [])).sort();
    expectContent(
      'the keys in dump.rdb after DEBUG RELOAD',
      saved.join(' '),
      ['bin\r\n\x00', 'greeting', 'session', 'stale', 'visits'].join(' '),
      'RELOAD saves first, with SAVE\'s code (Snapshots.saveNow): every stored key, even one past its deadline',
    );
  });

  it('saves first: what changed since the last SAVE survives the reload', async () => {
    await c.expectReply(command('SET', 'a', '1') + command('SAVE') + command('SET', 'a', '2') + command('SET', 'b', 'new'), OK.repeat(4));
    await c.expectReply(command('DEBUG', 'RELOAD'), OK);
    await c.expectReply(
      command('MGET', 'a', 'b'),
      '*2\r\n$1\r\n2\r\n$3\r\nnew\r\n',
      'without NOSAVE, DEBUG RELOAD saves the dataset, then loads that file: "1" and a nil are what the older dump.rdb held',
    );
  });

  it('NOSAVE loads the file as it is on disk, into an emptied dataset', async () => {
    await c.expectReply(command('SET', 'a', '1') + command('SAVE') + command('SET', 'a', '2') + command('SET', 'b', 'new'), OK.repeat(4));
    await c.expectReply(command('DEBUG', 'RELOAD', 'NOSAVE'), OK, 'DEBUG RELOAD NOSAVE (any case) skips the save');
    await c.expectReply(
      command('MGET', 'a', 'b'),
      '*2\r\n$1\r\n1\r\n$-1\r\n',
      'NOSAVE loads what the last SAVE wrote: a is "1", and b, written since, is gone. b still there: the dataset was not emptied first',
    );
    await c.expectReply(
      command('DEBUG', 'RELOAD', 'NOW'),
      '-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n',
      'an option it does not know is refused with Redis\'s words, before anything is saved or emptied',
    );
    await c.expectReply(command('DBSIZE'), ':1\r\n');
  });

  it('INFO persistence describes the last load alone', async () => {
    await c.expectReply(FIVE_KEYS + command('DEBUG', 'RELOAD'), OK.repeat(6));
    expectContent('INFO persistence\'s rdb_last_load_keys_loaded after a DEBUG RELOAD', await info('rdb_last_load_keys_loaded'), '4', 'four keys were loaded');
    expectContent('INFO persistence\'s rdb_last_load_keys_expired after a DEBUG RELOAD', await info('rdb_last_load_keys_expired'), '1', 'one was past its deadline');
    expectContent('INFO persistence\'s rdb_changes_since_last_save after a DEBUG RELOAD', await info('rdb_changes_since_last_save'), '0', 'what is in memory is what is on disk');
    await c.expectReply(command('DEBUG', 'RELOAD'), OK);
    expectContent(
      'INFO persistence\'s rdb_last_load_keys_loaded after a second DEBUG RELOAD',
      await info('rdb_last_load_keys_loaded'),
      '4',
      'the counters describe the last load, not every load since the start: Redis sets them to 0 when a load begins (startLoading)',
    );
    expectContent('INFO persistence\'s rdb_last_load_keys_expired after a second DEBUG RELOAD', await info('rdb_last_load_keys_expired'), '0');
  });

  it('a client WATCHing a key sees its transaction fail: the key was emptied and loaded again', async () => {
    const watcher = await connect();
    await c.expectReply(command('SET', 'k', 'v'), OK);
    await watcher.expectReply(command('WATCH', 'k'), OK);
    await c.expectReply(command('DEBUG', 'RELOAD'), OK);
    await watcher.expectReply(
      command('MULTI') + command('GET', 'k') + command('EXEC'),
      '+OK\r\n+QUEUED\r\n*-1\r\n',
      'the key was emptied and loaded again: to a watcher that is a change, as after FLUSHALL (Redis\'s emptyData calls ' +
        'signalFlushedDb), even though the value is the same. Keyspace.clear() tells the watchers',
    );
  });
});
