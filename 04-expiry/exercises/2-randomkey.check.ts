// Exercise 2: RANDOMKEY that never returns an expired key. Run: make check STEP=04 EX=2
// (TARGET=redis make check STEP=04 EX=2 runs the same check against real Redis.)
//
// Most of it runs your server in this process on a FakeClock that never moves, so its
// active expiry cycle never runs: a key past its deadline stays until a command meets it.
// The test with only expired keys runs your server as a separate process instead: if
// RANDOMKEY never returns there, the check reports a timeout rather than hanging too.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, it, onTestFinished } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { TARGET, spawnStep, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

/** `count` SETs of keys whose deadline is in 1970: stored, and already expired. */
const deadKeys = (count: number) => Array.from({ length: count }, (_, i) => command('SET', `dead:${i}`, 'v', 'PXAT', '1')).join('');

describe('exercise 2: RANDOMKEY', () => {
  const t = useServer(() => startExerciseServer(import.meta.url, { clock: new FakeClock() }));
  beforeEach(async () => {
    await t.client.request(command('FLUSHALL'));
  });

  it('answers nil for an empty keyspace', async () => {
    await t.client.expectReply(command('RANDOMKEY'), '$-1\r\n', 'no keys: a null bulk string');
  });

  it('returns the only key there is', async () => {
    await t.client.request(command('SET', 'only', 'v'));
    await t.client.expectReply(command('RANDOMKEY'), '$4\r\nonly\r\n', 'RANDOMKEY replies with a key name, as a bulk string');
  });

  it('checks its arity', async () => {
    await t.client.expectReply(command('RANDOMKEY', 'x'), "-ERR wrong number of arguments for 'randomkey' command\r\n", 'RANDOMKEY takes no arguments: arity 1');
  });

  it('never returns an expired key', async () => {
    await t.client.request(deadKeys(30), 30);
    await t.client.request(command('SET', 'alive', 'v'));
    for (let i = 0; i < 10; i++) {
      await t.client.expectReply(
        command('RANDOMKEY'),
        '$5\r\nalive\r\n',
        'a key past its deadline must not come back: look the picked key up through the keyspace (which expires it) and pick again',
      );
    }
  });
});

describe('exercise 2: RANDOMKEY when every key has expired', () => {
  /** The server in a process of its own (real Redis under TARGET=redis), so a RANDOMKEY that never ends cannot hang the check. */
  async function startOwnProcess(): Promise<TestServer> {
    if (TARGET === 'redis') return startExerciseServer(import.meta.url);
    const exercise = basename(fileURLToPath(import.meta.url)).replace(/\.check\.ts$/, '');
    const child = await spawnStep('04-expiry', [], { exercise });
    return { port: child.port, target: 'step', close: async () => void (await child.kill()) };
  }

  it('answers nil, having deleted every expired key it met', async () => {
    const server = await startOwnProcess();
    onTestFinished(() => server.close());
    const client = await RawClient.connect(server.port);
    onTestFinished(() => client.destroy());
    // Inline commands, as typed into nc, all in one write: the server runs them in one go, so
    // its active expiry cycle (10 times a second, on a real clock here) cannot run between
    // them and clean up for RANDOMKEY.
    const sets = Array.from({ length: 5 }, (_, i) => `SET dead:${i} v PXAT 1\r\n`).join('');
    await client.expectReply(
      `${sets}RANDOMKEY\r\nDBSIZE\r\n`,
      '+OK\r\n'.repeat(5) + '$-1\r\n' + ':0\r\n',
      'only expired keys: RANDOMKEY must answer nil (no reply at all means it never returned: a loop that skips expired keys ' +
        'without deleting them never ends), and DBSIZE 0, because Redis deletes each expired key RANDOMKEY picks, as any access does',
    );
  });
});
