// Exercise 3: CONFIG SET appendonly, turning the AOF on and off at run time.
// Run: make check STEP=05 EX=3 (TARGET=redis runs the replies part against real Redis; the
// files part is ours alone: Redis 7 keeps its AOF in a directory of several files).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { commandsInAof } from '../../test/helpers/aof-file.ts';
import { expectCommands } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { TARGET, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const IN_2100 = String(Date.UTC(2100, 0, 1));

describe('exercise 3: CONFIG SET appendonly', () => {
  let dir: string;
  let server: TestServer | undefined;
  let client: RawClient | undefined;
  const aof = () => join(dir, 'appendonly.aof');

  async function start(appendonly: boolean): Promise<RawClient> {
    client?.destroy();
    await server?.close();
    // Time stands still (no cron runs): a key past its deadline stays stored until a command
    // touches it, and no DEL from the active expiry cycle lands in the file while it is read.
    server = await startExerciseServer(import.meta.url, { dir, appendonly, appendfsync: 'always', clock: new FakeClock() });
    client = await RawClient.connect(server.port);
    return client;
  }
  const info = async (c: RawClient, field: string) =>
    new RegExp(`^${field}:(.*)\r$`, 'm').exec((await c.request(command('INFO', 'persistence'))).toString('latin1'))?.[1];

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'config-set-aof-'));
  });
  afterEach(async () => {
    client?.destroy();
    await server?.close();
    client = server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers as Redis does, errors included', async () => {
    const c = await start(false);
    await c.expectReply(command('CONFIG', 'SET', 'appendonly'), "-ERR wrong number of arguments for 'config|set' command\r\n", 'CONFIG SET takes name/value pairs: arity -4');
    await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'yes', 'appendfsync'), '-ERR syntax error\r\n', 'a name without a value');
    await c.expectReply(command('CONFIG', 'SET', 'nosuch', '1'), "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
    await c.expectReply(
      command('CONFIG', 'SET', 'Appendonly', 'maybe'),
      "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n",
      'the name is case-insensitive, and Redis names it in lowercase',
    );
    await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n', 'already off: nothing to do, still OK');
    await c.expectReply(command('CONFIG', 'GET', 'appendonly'), '*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n');
  });

  it('checks every pair before it applies any: a refused CONFIG SET changes nothing', async () => {
    const c = await start(false);
    await c.expectReply(
      command('CONFIG', 'SET', 'appendonly', 'yes', 'nosuch', '1'),
      "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    await c.expectReply(
      command('CONFIG', 'GET', 'appendonly'),
      '*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n',
      'the first pair was fine, the second was not: Redis refuses the whole CONFIG SET, so appendonly stays no. Check every pair, then apply them',
    );
    if (TARGET !== 'redis') expect(fs.existsSync(aof()), 'a refused CONFIG SET writes no file').toBe(false);
  });

  describe.skipIf(TARGET === 'redis')('the file', () => {
    it('turned on, holds the dataset as it is in a fresh file, then the appends', async () => {
      const c = await start(false);
      c.send(command('SET', 'a', '1') + command('SET', 'b', '2', 'PXAT', IN_2100) + command('SET', 'gone', 'x', 'PXAT', '1'));
      await c.readReplies(3);
      expect(fs.existsSync(aof()), 'with appendonly off, no AOF is written').toBe(false);
      await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'YES'), '+OK\r\n');
      const commands = commandsInAof(aof());
      expectCommands(
        'the new AOF (its SETs sorted here: any order will do)',
        [...commands.slice(0, 1), ...commands.slice(1).sort()],
        [
          ['SELECT', '0'],
          ['SET', 'a', '1'],
          ['SET', 'b', '2', 'PXAT', IN_2100],
        ],
        'the file starts from the dataset: SELECT 0, then one SET per live key, deadlines as PXAT; it is in place by the time +OK arrives',
      );
      await c.expectReply(command('INCR', 'a'), ':2\r\n');
      expectCommands('the last command of the AOF', commandsInAof(aof()).slice(-1), [['INCR', 'a']], 'later writes are appended');
      expect(await info(c, 'aof_enabled')).toBe('1');
      await c.expectReply(command('CONFIG', 'GET', 'appendonly'), '*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n');
      expect(fs.readdirSync(dir), 'write a temporary file and rename it: nothing else stays behind').toEqual(['appendonly.aof']);

      const again = await start(true);
      await again.expectReply(command('GET', 'a'), '$1\r\n2\r\n', 'a restart with --appendonly yes replays the new file');
      await again.expectReply(command('PEXPIRETIME', 'b'), `:${IN_2100}\r\n`);
    });

    it('turned on over an old file, replaces it rather than append to it', async () => {
      fs.writeFileSync(aof(), command('SET', 'stale', 'from an old run'));
      const c = await start(false);
      await c.expectReply(command('SET', 'a', '1'), '+OK\r\n');
      await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'yes'), '+OK\r\n');
      expectCommands('the AOF', commandsInAof(aof()), [['SELECT', '0'], ['SET', 'a', '1']], 'the old file is replaced by the dataset, not appended to');
    });

    it('turned on inside a transaction, counts the transaction\'s writes once', async () => {
      let c = await start(false);
      await c.expectReply(command('SET', 'n', '0'), '+OK\r\n');
      await c.request(command('MULTI') + command('INCR', 'n') + command('CONFIG', 'SET', 'appendonly', 'yes') + command('INCR', 'n') + command('EXEC'), 5);
      await c.expectReply(command('GET', 'n'), '$1\r\n2\r\n');
      c = await start(true);
      await c.expectReply(
        command('GET', 'n'),
        '$1\r\n2\r\n',
        'EXEC hands its writes to the AOF as one MULTI ... EXEC block when it ends (propagate.ts): a file started from ' +
          'the dataset in the middle of EXEC already holds the first INCR, then gets the whole block. Redis schedules ' +
          'the start when asked inside a transaction; start the file once the turn\'s writes are done',
      );
    });

    it('turned off, stops appending and leaves the file as it is', async () => {
      const c = await start(true);
      await c.expectReply(command('SET', 'a', '1'), '+OK\r\n');
      await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n');
      const size = fs.statSync(aof()).size;
      await c.expectReply(command('SET', 'b', '2'), '+OK\r\n');
      expect(fs.statSync(aof()).size, 'no more appends').toBe(size);
      expect(await info(c, 'aof_enabled')).toBe('0');
      await c.expectReply(command('CONFIG', 'GET', 'appendonly'), '*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n');
      await c.expectReply(command('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n', 'already off: nothing to do, still OK');
    });
  });
});
