// Step 05's server in this process, with a fake clock and a temporary --dir: what goes into
// the AOF (and what never does), and what a restart on the same directory gets back.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { nodeFileIo } from './aof.ts';
import type { RespValue } from '../lib/resp.ts';
import { commandsInAof as commandsIn } from '../test/helpers/aof-file.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { TARGET, startStep, type StepOptions, type TestServer } from '../test/helpers/servers.ts';

const STEP = '05-aof-persistence';
const T = Date.UTC(2030, 0, 1); // the fake clock's start, in Unix ms

/** Sends one command and returns its reply as a value. */
async function call(client: RawClient, ...args: string[]): Promise<RespValue> {
  client.send(command(...args));
  return (await client.readReplies(1)).values[0]!;
}

async function infoField(client: RawClient, field: string): Promise<string | undefined> {
  const reply = (await client.request(command('INFO', 'persistence'))).toString('latin1');
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(reply)?.[1];
}

describe.skipIf(TARGET === 'redis')('05-aof-persistence: what the AOF holds', () => {
  let dir: string;
  let clock: FakeClock;
  let server: TestServer | undefined;
  let client: RawClient | undefined;
  let aofPath: string;
  let logs: string[];

  /** Starts (or restarts) the server on the test's directory and connects to it. */
  async function start(options: StepOptions<typeof STEP> = {}): Promise<RawClient> {
    await stop();
    server = await startStep(STEP, { dir, clock, appendfsync: 'always', logSink: (line: string) => logs.push(line), ...options });
    client = await RawClient.connect(server.port);
    return client;
  }

  /** Stops the server, so that moving the clock runs no expiry cycle of its. */
  async function stop(): Promise<void> {
    client?.destroy();
    await server?.close();
    client = server = undefined;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'aof-'));
    aofPath = join(dir, 'appendonly.aof');
    clock = new FakeClock(T);
    logs = [];
  });
  afterEach(async () => {
    client?.destroy();
    await server?.close();
    client = server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs each write as Redis does: relative times as absolute deadlines, reads and no-ops never', async () => {
    const c = await start();
    const steps: Array<[string[], string[][]]> = [
      [['SET', 'a', '1'], [['SELECT', '0'], ['SET', 'a', '1']]],
      [['GET', 'a'], []],
      [['SET', 'a', '2', 'NX'], []],
      [['SET', 'missing', '1', 'XX'], []],
      [['DEL', 'missing'], []],
      [['EXISTS', 'a'], []],
      [['SET', 'k', 'v', 'EX', '100'], [['SET', 'k', 'v', 'PXAT', String(T + 100_000)]]],
      [['SET', 'k2', 'v', 'PX', '500', 'GET'], [['SET', 'k2', 'v', 'PXAT', String(T + 500)]]],
      [['SET', 'g', 'v', 'GET'], [['SET', 'g', 'v']]],
      [['SET', 'g', 'w', 'KEEPTTL'], [['SET', 'g', 'w', 'KEEPTTL']]],
      [['SETEX', 's', '10', 'v'], [['SET', 's', 'v', 'PXAT', String(T + 10_000)]]],
      [['PSETEX', 'p', '10', 'v'], [['SET', 'p', 'v', 'PXAT', String(T + 10)]]],
      [['EXPIRE', 'a', '100'], [['PEXPIREAT', 'a', String(T + 100_000)]]],
      [['EXPIRE', 'a', '200', 'NX'], []],
      [['PEXPIRE', 'a', '300', 'XX'], [['PEXPIREAT', 'a', String(T + 300), 'XX']]],
      [['EXPIREAT', 'a', String(T / 1000 + 1000)], [['PEXPIREAT', 'a', String(T + 1_000_000)]]],
      [['PEXPIREAT', 'a', String(T + 5)], [['PEXPIREAT', 'a', String(T + 5)]]],
      [['EXPIRE', 'g', '-1'], [['DEL', 'g']]],
      [['EXPIRE', 'nokey', '10'], []],
      [['GETEX', 'k', 'EX', '50'], [['PEXPIREAT', 'k', String(T + 50_000)]]],
      [['GETEX', 'k', 'PERSIST'], [['PERSIST', 'k']]],
      [['GETEX', 'k', 'PERSIST'], []],
      [['GETEX', 'k'], []],
      [['GETEX', 's', 'PXAT', '1'], [['DEL', 's']]],
      [['PERSIST', 'k'], []],
      [['INCRBYFLOAT', 'f', '0.1'], [['SET', 'f', '0.1', 'KEEPTTL']]],
      [['INCRBYFLOAT', 'f', '1e2'], [['SET', 'f', '100.1', 'KEEPTTL']]],
      [['INCR', 'f'], []], // an error changes nothing
      [['GETSET', 'a', 'x'], [['SET', 'a', 'x']]],
      [['GETDEL', 'a'], [['DEL', 'a']]],
      [['GETDEL', 'a'], []],
      [['INCR', 'n'], [['INCR', 'n']]],
      [['incrby', 'n', '5'], [['incrby', 'n', '5']]],
      [['APPEND', 'n', '0'], [['APPEND', 'n', '0']]],
      [['MSET', 'm1', '1', 'm2', '2'], [['MSET', 'm1', '1', 'm2', '2']]],
      [['MSETNX', 'm1', '1', 'm3', '3'], []],
      [['SETNX', 'm1', 'x'], []],
      [['TTL', 'k'], []],
      [['PEXPIRETIME', 'p'], []],
    ];
    const expected: string[][] = [];
    for (const [sent, logged] of steps) {
      await call(c, ...sent);
      expected.push(...logged);
      expect(commandsIn(aofPath), `after ${sent.join(' ')}`).toEqual(expected);
    }
    // A key found past its deadline is deleted, and the deletion is logged as a DEL.
    clock.advance(11);
    expect(await call(c, 'GET', 'p')).toEqual({ type: 'bulk', value: null });
    expect(commandsIn(aofPath).at(-1)).toEqual(['DEL', 'p']);
  });

  it('logs keys removed by the active expiry cycle as DEL too', async () => {
    const c = await start();
    await call(c, 'SET', 'short', 'v', 'PX', '50');
    clock.advance(200); // two cycles run on the way
    await new Promise((resolve) => setImmediate(resolve)); // the end of this event-loop turn
    expect(commandsIn(aofPath).slice(-1)).toEqual([['DEL', 'short']]);
  });

  it('replays the file on restart without appending to it', async () => {
    let c = await start();
    await call(c, 'SET', 'a', '1');
    await call(c, 'INCR', 'a');
    await call(c, 'SET', 'bin\r\n\x00', '\xff\xfe\r\n');
    await call(c, 'RPUSH', 'not-a-command-here', 'x'); // unknown: an error, never logged
    const size = fs.statSync(aofPath).size;
    c = await start();
    expect(await call(c, 'GET', 'a')).toEqual({ type: 'bulk', value: '2' });
    expect(await call(c, 'GET', 'bin\r\n\x00')).toEqual({ type: 'bulk', value: '\xff\xfe\r\n' });
    expect(fs.statSync(aofPath).size).toBe(size);
    expect(await infoField(c, 'aof_base_size')).toBe(String(size));
    expect(await infoField(c, 'aof_current_size')).toBe(String(size));
    // The next write of this run starts with its own SELECT, as Redis's does.
    await call(c, 'DEL', 'a');
    expect(commandsIn(aofPath).slice(-2)).toEqual([['SELECT', '0'], ['DEL', 'a']]);
  });

  it('gives a relative expiry the same absolute deadline however much later the replay runs', async () => {
    let c = await start();
    await call(c, 'SET', 'k', 'v', 'EX', '100');
    await call(c, 'SET', 'j', 'v');
    await call(c, 'PEXPIRE', 'j', '90000');
    await stop();
    clock.advance(50_000);
    c = await start();
    expect(await call(c, 'PEXPIRETIME', 'k')).toEqual({ type: 'integer', value: T + 100_000 });
    expect(await call(c, 'PTTL', 'k')).toEqual({ type: 'integer', value: 50_000 });
    expect(await call(c, 'PEXPIRETIME', 'j')).toEqual({ type: 'integer', value: T + 90_000 });
  });

  it('drops keys whose deadline passed while the server was down, and logs their DEL', async () => {
    let c = await start();
    await call(c, 'SET', 'k', 'v', 'PX', '100');
    await call(c, 'SET', 'forever', 'v');
    await stop();
    clock.advance(1000);
    c = await start();
    expect(await call(c, 'GET', 'k')).toEqual({ type: 'bulk', value: null });
    expect(await call(c, 'GET', 'forever')).toEqual({ type: 'bulk', value: 'v' });
    expect(commandsIn(aofPath).slice(-2)).toEqual([['SELECT', '0'], ['DEL', 'k']]);
  });

  it('replays commands as they happened: a key alive then is alive for the commands after it', async () => {
    // Without "nothing expires while loading", the replayed INCR would find k expired and
    // create a new k = 1 with no deadline: a key resurrected for ever.
    let c = await start();
    await call(c, 'SET', 'k', '5', 'EX', '10');
    await call(c, 'SET', 'j', '5');
    await call(c, 'EXPIRE', 'j', '10');
    clock.advance(5000);
    await call(c, 'INCR', 'k');
    await call(c, 'INCR', 'j');
    await stop();
    clock.advance(20_000);
    c = await start();
    expect(await call(c, 'EXISTS', 'k', 'j')).toEqual({ type: 'integer', value: 0 });
    expect(await call(c, 'DBSIZE')).toEqual({ type: 'integer', value: 0 });
  });

  it('replays INCRBYFLOAT to exactly the value the client saw', async () => {
    let c = await start();
    const seen: RespValue[] = [];
    for (const by of ['0.1', '0.2', '1e-17', '3.0e3', '-0.30000000000000004']) seen.push(await call(c, 'INCRBYFLOAT', 'f', by));
    c = await start();
    expect(await call(c, 'GET', 'f')).toEqual(seen.at(-1));
  });

  it('reports the AOF in INFO persistence and CONFIG GET', async () => {
    const c = await start({ appendfsync: 'everysec' });
    await call(c, 'SET', 'a', '1');
    const size = fs.statSync(aofPath).size;
    expect(await infoField(c, 'aof_enabled')).toBe('1');
    expect(await infoField(c, 'aof_rewrite_in_progress')).toBe('0');
    expect(await infoField(c, 'aof_last_write_status')).toBe('ok');
    expect(await infoField(c, 'aof_current_size')).toBe(String(size));
    expect(await infoField(c, 'aof_base_size')).toBe('0');
    expect(await infoField(c, 'loading')).toBe('0');
    const config = await call(c, 'CONFIG', 'GET', 'append*');
    expect(config).toEqual({
      type: 'array',
      items: ['appendonly', 'yes', 'appendfsync', 'everysec', 'appendfilename', 'appendonly.aof'].map((v) => ({ type: 'bulk', value: v })),
    });
    expect(await call(c, 'CONFIG', 'GET', 'dir')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'dir' }, { type: 'bulk', value: dir }] });
  });

  it('with --appendonly no, neither reads nor writes a file', async () => {
    fs.writeFileSync(aofPath, command('SET', 'old', 'v'));
    const c = await start({ appendonly: false });
    expect(await call(c, 'GET', 'old')).toEqual({ type: 'bulk', value: null });
    await call(c, 'SET', 'a', '1');
    expect(fs.readFileSync(aofPath, 'latin1')).toBe(command('SET', 'old', 'v'));
    expect(await infoField(c, 'aof_enabled')).toBe('0');
    expect(await infoField(c, 'aof_current_size')).toBeUndefined();
    expect(await call(c, 'CONFIG', 'GET', 'appendonly')).toEqual({ type: 'array', items: [{ type: 'bulk', value: 'appendonly' }, { type: 'bulk', value: 'no' }] });
  });

  it('refuses a file for another database layout (SELECT 1) rather than load it into db 0', async () => {
    fs.writeFileSync(aofPath, command('SELECT', '1') + command('SET', 'a', '1'));
    await expect(start()).rejects.toThrow(
      "Command 'SELECT' at offset 0 of the append only file appendonly.aof failed on replay: ERR DB index is out of range",
    );
  });

  it('creates --dir when it is missing, and honours --appendfilename', async () => {
    const nested = join(dir, 'a', 'b');
    const c = await start({ dir: nested, appendfilename: 'mine.aof' });
    await call(c, 'SET', 'a', '1');
    expect(commandsIn(join(nested, 'mine.aof'))).toEqual([['SELECT', '0'], ['SET', 'a', '1']]);
  });

  it.skipIf(!fs.existsSync('/dev/full'))('refuses writes with MISCONF while the disk refuses the AOF (everysec)', async () => {
    fs.symlinkSync('/dev/full', aofPath); // every write: ENOSPC
    const c = await start({ appendfsync: 'everysec' });
    const queuedEarlier = await RawClient.connect(server!.port);
    await queuedEarlier.expectReply(command('MULTI') + command('SET', 'x', '1'), '+OK\r\n+QUEUED\r\n');
    await c.expectReply(command('SET', 'a', '1'), '+OK\r\n', 'everysec: the failed batch is kept in memory and retried');
    const misconf = '-MISCONF Errors writing to the AOF file: No space left on device\r\n';
    await c.expectReply(command('SET', 'b', '2'), misconf);
    await c.expectReply(command('PING'), misconf, 'Redis refuses PING too, so health checks notice');
    await c.expectReply(command('GET', 'a'), '$1\r\n1\r\n', 'reads still work');
    expect(await infoField(c, 'aof_last_write_status')).toBe('err');
    expect(logs.filter((l) => l.includes('Error writing to the AOF file: No space left on device'))).toHaveLength(1);
    // A write refused while queueing poisons the transaction; so does EXEC once it would write.
    await c.expectReply(command('MULTI') + command('SET', 'c', '3') + command('GET', 'a') + command('EXEC'),
      '+OK\r\n' + misconf + '+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n');
    await c.expectReply(command('MULTI') + command('GET', 'a') + command('EXEC'), '+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n', 'a read-only transaction still runs');
    await queuedEarlier.expectReply(command('EXEC'), '-EXECABORT Transaction discarded because of: ' + misconf.slice(1), 'queued before the error, refused at EXEC');
    queuedEarlier.destroy();
  });

  it('logs a transaction\'s writes as one MULTI ... EXEC block, in one write', async () => {
    const writes: number[] = [];
    const fileIo = { ...nodeFileIo, write: (fd: number, bytes: Buffer) => (writes.push(bytes.length), nodeFileIo.write(fd, bytes)) };
    const c = await start({ fileIo });
    await call(c, 'SET', 'a', '1');
    writes.length = 0;
    await c.expectReply(command('MULTI') + command('INCR', 'a') + command('GET', 'a') + command('SET', 'b', '2', 'EX', '10') + command('EXEC'),
      '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:2\r\n$1\r\n2\r\n+OK\r\n');
    const block = [['MULTI'], ['INCR', 'a'], ['SET', 'b', '2', 'PXAT', String(T + 10_000)], ['EXEC']];
    expect(commandsIn(aofPath).slice(2)).toEqual(block);
    expect(writes).toEqual([block.map((args) => command(...args)).join('').length]);
    // One write, or none: a single write is logged alone, a transaction that changed nothing adds nothing.
    await call(c, 'MULTI');
    await call(c, 'SET', 'a', '1', 'NX');
    await call(c, 'EXEC');
    expect(commandsIn(aofPath).slice(2)).toEqual(block);
    await c.expectReply(command('MULTI') + command('SET', 'c', '3') + command('EXEC'), '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n');
    expect(commandsIn(aofPath).at(-1)).toEqual(['SET', 'c', '3']);
    // And the restart replays the block.
    const after = await start();
    expect(await call(after, 'MGET', 'a', 'b', 'c')).toEqual({ type: 'array', items: ['2', '2', '3'].map((value) => ({ type: 'bulk', value })) });
  });

  it('appendfsync always: when the AOF cannot keep its promise, no reply that depends on it ever leaves, even if the process lives on', async () => {
    let reportFatal: (message: string) => void = () => {};
    const fatal = new Promise<string>((resolve) => (reportFatal = resolve));
    let failing = false;
    const fileIo = { ...nodeFileIo, fdatasync: (fd: number) => (failing ? raise('EIO: i/o error, fdatasync') : nodeFileIo.fdatasync(fd)) };
    const c = await start({ fileIo, onFatal: (message) => reportFatal(message) });
    const other = await RawClient.connect(server!.port);
    // Absence can only be observed over time: this long without a reply is taken as never.
    const quietly = () => new Promise((resolve) => setTimeout(resolve, 100));
    try {
      await c.expectReply(command('SET', 'a', '1'), '+OK\r\n');
      failing = true;
      c.send(command('SET', 'a', '2'));
      other.send(command('GET', 'a')); // a read in the same turn: its reply waits behind the same beforeSleep
      expect(await fatal).toBe("Can't persist AOF for fsync error when the AOF fsync policy is 'always': I/o error. Exiting...");
      await quietly();
      failing = false; // the disk is back: the promise stays broken
      c.send(command('PING'));
      await quietly();
      expect(c.takeAll().toString('latin1')).toBe('');
      expect(other.takeAll().toString('latin1')).toBe('');
    } finally {
      other.destroy();
    }
  });
});

function raise(message: string): never {
  throw Object.assign(new Error(message), { code: message.split(':')[0] });
}
