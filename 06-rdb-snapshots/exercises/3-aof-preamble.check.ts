// Exercise 3: an AOF that starts with a snapshot (Redis's RDB preamble). Run:
// make check STEP=06 EX=3
//
// Redis 7 still loads a single-file AOF with an RDB preamble, as Redis 4 to 6 wrote it
// (it then moves the file into its appendonlydir): TARGET=redis make check STEP=06 EX=3
// runs the same check against a real redis-server started on the same files.
//
// The files are made here: the preamble with lib/rdb-encoder.ts's encodeRdb, the commands
// with lib/resp-reply.ts's encodeCommand. Your server runs on a FakeClock that never
// moves, so nothing expires behind the check's back.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import type { RdbEntry } from '../../lib/rdb.ts';
import { encodeRdb } from '../../lib/rdb-encoder.ts';
import { encodeCommand } from '../../lib/resp-reply.ts';
import { expectContent } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startRealRedis } from '../../test/helpers/real-redis.ts';
import { TARGET, startExerciseServer } from '../../test/helpers/servers.ts';

const NOW = Date.now();
const A_MINUTE_AGO = BigInt(NOW - 60_000);
const IN_AN_HOUR = String(NOW + 3_600_000);

/** An RDB preamble as Redis writes one when it rewrites its AOF (aof-base 1). */
function preamble(entries: RdbEntry[]): Buffer {
  return encodeRdb({ entries, keys: entries.length, expires: entries.filter((e) => e.deadline !== null).length }, { aofBase: true });
}

const commands = (...list: string[][]) => Buffer.concat(list.map((args) => encodeCommand(args)));
const key = (k: string, value: string, deadline: bigint | null = null): RdbEntry => ({ key: k, value, deadline });

describe('exercise 3: an AOF with an RDB preamble', () => {
  let dir: string;
  let stop: (() => Promise<void>) | undefined;
  let client: RawClient | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'aof-preamble-'));
  });
  afterEach(async () => {
    client?.destroy();
    await stop?.();
    client = stop = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the server with appendonly yes on `dir` (whatever file is there). */
  async function start(): Promise<RawClient> {
    client?.destroy();
    await stop?.();
    client = stop = undefined;
    let port: number;
    if (TARGET === 'redis') {
      const redis = await startRealRedis(['--appendonly', 'yes'], dir);
      ({ port } = redis);
      stop = () => redis.stop();
    } else {
      const server = await startExerciseServer(import.meta.url, { dir, appendonly: true, save: [], clock: new FakeClock(NOW) });
      ({ port } = server);
      stop = () => server.close();
    }
    client = await RawClient.connect(port);
    return client;
  }

  /** Writes the AOF, then starts the server on it; a refusal to start says what to do. */
  async function startOn(file: Buffer): Promise<RawClient> {
    fs.writeFileSync(join(dir, 'appendonly.aof'), file);
    return start().catch((err: Error) => {
      throw new Error(
        `the server did not start on an AOF that begins with an RDB preamble: ${err.message}\n` +
          '  hint: a file that starts with "REDIS" starts with a snapshot; load it with lib/rdb-decoder.ts\'s RdbDecoder (in loadAof, aof-load.ts), ' +
          'then replay the commands from the byte where it ends (decoder.offset)',
      );
    });
  }

  /** Where the file is once the server started: Redis 7 moves an old single-file AOF into appendonlydir. */
  const aofPath = () => (TARGET === 'redis' ? join(dir, 'appendonlydir', 'appendonly.aof') : join(dir, 'appendonly.aof'));

  async function info(c: RawClient, field: string): Promise<string> {
    const text = (await c.request(command('INFO', 'persistence'))).toString('latin1');
    return new RegExp(`^${field}:(.*)\r$`, 'm').exec(text)?.[1] ?? `(no ${field} line)`;
  }

  it('loads the snapshot at the start of the file, then replays the commands after it', async () => {
    const file = Buffer.concat([
      preamble([key('greeting', 'hello'), key('counter', '10'), key('bin\r\n\x00', '\x00\xff')]),
      commands(['SELECT', '0'], ['INCR', 'counter'], ['SET', 'after', 'yes']),
    ]);
    const c = await startOn(file);
    await c.expectReply(
      command('GET', 'greeting') + command('GET', 'counter') + command('GET', 'bin\r\n\x00') + command('GET', 'after') + command('DBSIZE'),
      '$5\r\nhello\r\n$2\r\n11\r\n$2\r\n\x00\xff\r\n$3\r\nyes\r\n:4\r\n',
      'the preamble\'s keys, then the commands: INCR ran on the preamble\'s counter (10 + 1)',
    );
    await c.expectReply(command('SET', 'later', '1'), '+OK\r\n', 'and the server appends to the file as usual');
    const again = await start();
    await again.expectReply(command('MGET', 'counter', 'later'), '*2\r\n$2\r\n11\r\n$1\r\n1\r\n', 'a second start loads the same preamble, then everything appended since');
  });

  it('loads every key of the preamble, even one past its deadline: a command after it may give it a new one', async () => {
    // A session that expired a minute ago by its deadline in the snapshot, extended an hour
    // by a command written after the snapshot; and a key that nothing extended.
    const file = Buffer.concat([
      preamble([key('session', 'alice', A_MINUTE_AGO), key('gone', 'x', A_MINUTE_AGO), key('plain', 'v')]),
      commands(['SELECT', '0'], ['PEXPIREAT', 'session', IN_AN_HOUR]),
    ]);
    const c = await startOn(file);
    await c.expectReply(
      command('GET', 'session') + command('PEXPIRETIME', 'session'),
      `$5\r\nalice\r\n:${IN_AN_HOUR}\r\n`,
      'the PEXPIREAT after the preamble extended the session while it was alive; replayed, it must find the key. ' +
        'A nil here: the preamble\'s loader skipped a key past its deadline, as dump.rdb is loaded at start. In an AOF that is wrong: ' +
        'the file is replayed as it happened, and nothing expires while it is (Keyspace.loading)',
    );
    await c.expectReply(command('GET', 'gone') + command('GET', 'plain'), '$-1\r\n$1\r\nv\r\n', 'once loading is over, a key past its deadline is expired as usual');
    expectContent(
      'INFO persistence\'s rdb_last_load_keys_loaded',
      await info(c, 'rdb_last_load_keys_loaded'),
      '3',
      'the preamble is an RDB load: count its keys there (Redis does), all three of them, the two past their deadline included',
    );
    expectContent('INFO persistence\'s rdb_last_load_keys_expired', await info(c, 'rdb_last_load_keys_expired'), '0', 'none was skipped');
  });

  it('cuts a torn last command off at its byte in the file, after the preamble', async () => {
    const rdb = preamble([key('a', '1'), key('b', '2')]);
    const whole = commands(['SELECT', '0'], ['SET', 'c', '3']);
    const torn = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$1\r', 'latin1'); // a crash in the middle of a write
    let c = await startOn(Buffer.concat([rdb, whole, torn]));
    await c.expectReply(command('MGET', 'a', 'b', 'c', 'd'), '*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n', 'the torn SET d is dropped, everything before it loaded');
    const size = fs.statSync(aofPath()).size;
    expect(
      size,
      `the file was truncated to ${size} bytes; the last whole command ends at byte ${rdb.length + whole.length} of the file ` +
        `(a ${rdb.length}-byte preamble, then ${whole.length} bytes of commands). An offset counted from the end of the preamble ` +
        'cuts into the snapshot itself, and the next start fails on it: keep offsets in the file',
    ).toBe(rdb.length + whole.length);
    await c.expectReply(command('SET', 'e', '5'), '+OK\r\n');
    c = await start();
    await c.expectReply(command('MGET', 'a', 'c', 'e'), '*3\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n', 'a restart loads the preamble, the commands before the cut, and what was appended after it');
  });

  it('refuses to start on a preamble that is damaged, rather than load part of it', async () => {
    const rdb = preamble([key('a', 'a value long enough to tell'), key('b', 'another value')]);
    rdb[rdb.length - 20]! ^= 0x01; // one flipped bit, inside the last key; the checksum no longer matches
    fs.writeFileSync(join(dir, 'appendonly.aof'), Buffer.concat([rdb, commands(['SELECT', '0'], ['SET', 'c', '3'])]));
    const started = await start().then(() => 'it started', (err: Error) => `refused: ${err.message}`);
    expect(started, 'a damaged snapshot is damage, not a torn tail: the server must not start on part of the data').toMatch(/^refused: /);
  });
});
