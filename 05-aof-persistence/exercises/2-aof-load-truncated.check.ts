// Exercise 2: --aof-load-truncated no. Run: make check STEP=05 EX=2
//
// Not run against real Redis (TARGET=redis): Redis 7 keeps its AOF in a directory of
// several files, and its message for a torn tail names no offset.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../lib/resp-reply.ts';
import { expectContent } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { TARGET, spawnStep, startExerciseServer } from '../../test/helpers/servers.ts';

const EXERCISE = basename(fileURLToPath(import.meta.url), '.check.ts');
const WHOLE = Buffer.concat([encodeCommand(['SELECT', '0']), encodeCommand(['SET', 'a', '1'])]);
/** A crash in the middle of a write: the last command is cut short. */
const CUT = Buffer.concat([WHOLE, encodeCommand(['SET', 'b', '2']).subarray(0, 10)]);
/** A crash in the middle of a transaction's write: every command whole, but no EXEC. */
const NO_EXEC = Buffer.concat([WHOLE, encodeCommand(['MULTI']), encodeCommand(['SET', 'b', '2'])]);

describe.skipIf(TARGET === 'redis')('exercise 2: --aof-load-truncated', () => {
  let dir: string;
  const aof = () => join(dir, 'appendonly.aof');
  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'load-truncated-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts the server in this process; returns why it refused to, or undefined if it started. */
  async function refusal(options: Record<string, unknown>): Promise<string | undefined> {
    try {
      const server = await startExerciseServer(import.meta.url, { dir, ...options });
      await server.close();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it('with no, refuses to start on a cut-off last command and leaves the file as it is', async () => {
    fs.writeFileSync(aof(), CUT);
    const reason = await refusal({ 'aof-load-truncated': false });
    expect(reason, "startServer should throw when 'aof-load-truncated' is false and the file ends mid-command").toMatch(
      new RegExp(`^Unexpected end of file reading the append only file appendonly\\.aof at offset ${WHOLE.length}\\.`),
    );
    expect(reason).toContain("set the 'aof-load-truncated' configuration option to yes");
    expectContent('appendonly.aof after the refused start', fs.readFileSync(aof()), CUT, 'a person decides what to do with the tail: do not truncate it');
  });

  it('with no, refuses a transaction that lost its EXEC too, naming the offset of its MULTI', async () => {
    fs.writeFileSync(aof(), NO_EXEC);
    const reason = await refusal({ 'aof-load-truncated': false });
    expect(
      reason,
      'every command in this file is whole, but the MULTI ... EXEC block at its end has no EXEC: a torn tail all the same ' +
        '(aof-load.ts drops it whole when aof-load-truncated is yes), so with no the start must stop',
    ).toMatch(new RegExp(`^Unexpected end of file reading the append only file appendonly\\.aof at offset ${WHOLE.length}\\.`));
    expectContent('appendonly.aof after the refused start', fs.readFileSync(aof()), NO_EXEC, 'do not truncate it');
  });

  it('with yes (the default), still drops a torn tail and starts', async () => {
    for (const [file, what] of [[CUT, 'the cut-off last command'], [NO_EXEC, 'the transaction without its EXEC']] as const) {
      fs.writeFileSync(aof(), file);
      const server = await startExerciseServer(import.meta.url, { dir });
      const client = await RawClient.connect(server.port);
      await client.expectReply(command('MGET', 'a', 'b'), '*2\r\n$1\r\n1\r\n$-1\r\n');
      await client.expectReply(
        command('CONFIG', 'GET', 'aof-load-truncated'),
        '*2\r\n$18\r\naof-load-truncated\r\n$3\r\nyes\r\n',
        'CONFIG GET reports the setting, as Redis does',
      );
      client.destroy();
      await server.close();
      expectContent('appendonly.aof after the start', fs.readFileSync(aof()), WHOLE, `with yes, ${what} is dropped from the file too, as before the exercise`);
    }
  });

  it('with no, loads a whole file as usual', async () => {
    fs.writeFileSync(aof(), Buffer.concat([WHOLE, encodeCommand(['MULTI']), encodeCommand(['SET', 'b', '2']), encodeCommand(['EXEC'])]));
    const server = await startExerciseServer(import.meta.url, { dir, 'aof-load-truncated': false });
    const client = await RawClient.connect(server.port);
    await client.expectReply(command('MGET', 'a', 'b'), '*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
    await client.expectReply(command('CONFIG', 'GET', 'aof-load-truncated'), '*2\r\n$18\r\naof-load-truncated\r\n$2\r\nno\r\n');
    client.destroy();
    await server.close();
  });

  it('takes the flag on the command line, as redis-server does', async () => {
    fs.writeFileSync(aof(), CUT);
    const failed = (args: string[]) =>
      spawnStep('05-aof-persistence', ['--dir', dir, ...args], { exercise: EXERCISE }).then(
        async (server) => {
          await server.kill();
          return 'it started';
        },
        (err: Error) => err.message,
      );
    expect(await failed(['--aof-load-truncated', 'no']), 'add aof-load-truncated to the flags: yesNoFlag(true)').toMatch(
      /exited \(1\)[^]*Unexpected end of file reading the append only file appendonly\.aof/,
    );
    expect(await failed(['--aof-load-truncated', 'maybe'])).toContain("bad value for --aof-load-truncated: 'maybe' is not one of: yes, no");
  });
});
