// Exercise 1: REWRITEAOF, compacting the AOF. Run: make check STEP=05 EX=1
//
// Not run against real Redis (TARGET=redis): Redis 7 keeps its AOF in a directory of
// several files, and its rewrite is BGREWRITEAOF, in a forked child.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { commandsInAof } from '../../test/helpers/aof-file.ts';
import { expectCommands } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { TARGET, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

describe.skipIf(TARGET === 'redis')('exercise 1: REWRITEAOF', () => {
  let dir: string;
  let server: TestServer | undefined;
  let client: RawClient | undefined;
  const aof = () => join(dir, 'appendonly.aof');

  async function start(): Promise<RawClient> {
    client?.destroy();
    await server?.close();
    // Time stands still (no cron runs): a key past its deadline stays stored until a command
    // touches it, and no DEL from the active expiry cycle lands in the file while it is read.
    server = await startExerciseServer(import.meta.url, { dir, appendfsync: 'always', clock: new FakeClock() });
    client = await RawClient.connect(server.port);
    return client;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'rewriteaof-'));
  });
  afterEach(async () => {
    client?.destroy();
    await server?.close();
    client = server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A history much longer than the dataset it leaves. */
  async function writeHistory(c: RawClient): Promise<void> {
    const history = [
      command('SET', 'counter', '0'),
      ...Array.from({ length: 50 }, () => command('INCR', 'counter')),
      command('SET', 'scratch', 'x'),
      command('DEL', 'scratch'),
      command('SET', 'session', 'abc', 'PXAT', '4102444800000'),
      command('SET', 'bin\r\n', '\x00\xff'),
      command('SET', 'dead', 'v', 'PXAT', '1'),
    ];
    c.send(history.join(''));
    await c.readReplies(history.length);
  }

  it('replaces the file with one SET per live key, smaller than before', async () => {
    const c = await start();
    await writeHistory(c);
    const before = fs.statSync(aof()).size;
    await c.expectReply(command('REWRITEAOF'), '+OK\r\n', 'add REWRITEAOF to the command table (persistence.ts is the family for it); it replies +OK');
    const commands = commandsInAof(aof());
    expectCommands(
      'the rewritten AOF (its SETs sorted here: any order will do)',
      [...commands.slice(0, 1), ...commands.slice(1).sort()],
      [
        ['SELECT', '0'],
        ['SET', 'bin\r\n', '\x00\xff'],
        ['SET', 'counter', '50'],
        ['SET', 'session', 'abc', 'PXAT', '4102444800000'],
      ],
      'SELECT 0 first, as every AOF starts; then one SET per live key, a deadline as PXAT; an expired key is left out. ' +
        'The file must be in place by the time the +OK reaches the client',
    );
    expect(fs.statSync(aof()).size, 'the point of a rewrite: a smaller file').toBeLessThan(before / 4);
    expect(fs.readdirSync(dir), 'write a temporary file, then rename it over the AOF: nothing else stays behind').toEqual(['appendonly.aof']);
  });

  it('keeps appending to the new file, and INFO persistence tells about it', async () => {
    const c = await start();
    await writeHistory(c);
    await c.expectReply(command('REWRITEAOF'), '+OK\r\n');
    const size = fs.statSync(aof()).size;
    const info = (await c.request(command('INFO', 'persistence'))).toString('latin1');
    expect(/aof_rewrites:(\d+)/.exec(info)?.[1], 'INFO persistence: aof_rewrites counts rewrites').toBe('1');
    expect(/aof_base_size:(\d+)/.exec(info)?.[1], 'aof_base_size is the size right after the rewrite').toBe(String(size));
    expect(/aof_current_size:(\d+)/.exec(info)?.[1], 'aof_current_size starts again from the new file').toBe(String(size));
    await c.expectReply(command('SET', 'after', '1'), '+OK\r\n');
    expectCommands(
      'the last command of the AOF',
      commandsInAof(aof()).slice(-1),
      [['SET', 'after', '1']],
      'the old file descriptor still points at the replaced file (renamed over, so unlinked): open the new one for appending',
    );
  });

  it('restarts from the rewritten file with the same values and deadlines', async () => {
    let c = await start();
    await writeHistory(c);
    await c.expectReply(command('REWRITEAOF'), '+OK\r\n');
    await c.expectReply(command('INCR', 'counter'), ':51\r\n');
    c = await start();
    await c.expectReply(command('GET', 'counter'), '$2\r\n51\r\n', 'the restart replays the rewritten file, then what was appended to it');
    await c.expectReply(command('PEXPIRETIME', 'session'), ':4102444800000\r\n');
    await c.expectReply(command('GET', 'bin\r\n'), '$2\r\n\x00\xff\r\n');
    await c.expectReply(command('EXISTS', 'scratch', 'dead'), ':0\r\n');
  });

  it('counts every write of the same turn once: a pipeline around REWRITEAOF', async () => {
    let c = await start();
    await c.expectReply(command('SET', 'n', '0'), '+OK\r\n');
    // One read, three commands: the first INCR is fed to the writer, but not written to the
    // file yet, when REWRITEAOF runs.
    await c.expectReply(command('INCR', 'n') + command('REWRITEAOF') + command('INCR', 'n'), ':1\r\n+OK\r\n:2\r\n');
    c = await start();
    await c.expectReply(
      command('GET', 'n'),
      '$1\r\n2\r\n',
      'the INCR before REWRITEAOF was waiting in the writer\'s buffer: it is in the dataset, so in the new file too; ' +
        'written after the new file as well, a replay counts it twice',
    );
  });

  it('counts a transaction\'s writes once when REWRITEAOF runs inside it', async () => {
    let c = await start();
    await c.expectReply(command('SET', 'n', '0'), '+OK\r\n');
    await c.request(command('MULTI') + command('INCR', 'n') + command('REWRITEAOF') + command('INCR', 'n') + command('EXEC'), 5);
    await c.expectReply(command('GET', 'n'), '$1\r\n2\r\n');
    c = await start();
    await c.expectReply(
      command('GET', 'n'),
      '$1\r\n2\r\n',
      'inside EXEC the transaction\'s writes reach the AOF as one MULTI ... EXEC block when EXEC ends (propagate.ts): ' +
        'a file rewritten in the middle of it already holds the first INCR, and then gets the whole block. ' +
        'Redis schedules a rewrite asked for inside a transaction; do the rewrite once the turn\'s writes are in the file',
    );
  });
});
