// Exercise 1: TOUCH, and the keys it must not count. Run: make check STEP=04 EX=1
// (TARGET=redis make check STEP=04 EX=1 runs the same check against real Redis.)
//
// The server runs on a FakeClock that never moves: its active expiry cycle never runs, so
// a key past its deadline stays in memory until a command looks at it. Whatever happens
// to such a key here is what your TOUCH did to it.
import { beforeEach, describe, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { command, type RawClient } from '../../test/helpers/raw-client.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

/** The counters of INFO stats this check watches. */
async function stats(client: RawClient): Promise<{ hits: number; misses: number; expired: number }> {
  const info = (await client.request(command('INFO', 'stats'))).toString('latin1');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(info)?.[1] ?? NaN);
  return { hits: field('keyspace_hits'), misses: field('keyspace_misses'), expired: field('expired_keys') };
}

describe('exercise 1: TOUCH', () => {
  const t = useServer(() => startExerciseServer(import.meta.url, { clock: new FakeClock() }));
  beforeEach(async () => {
    await t.client.request(command('FLUSHALL'));
  });

  it('counts the keys that exist', async () => {
    await t.client.request(command('MSET', 'a', '1', 'b', '2'));
    await t.client.expectReply(command('TOUCH', 'a'), ':1\r\n', 'TOUCH replies with an integer: how many of its keys exist');
    await t.client.expectReply(command('TOUCH', 'a', 'b', 'missing'), ':2\r\n', 'a missing key is not counted');
    await t.client.expectReply(command('TOUCH', 'a', 'a'), ':2\r\n', 'like EXISTS, a key named twice counts twice');
  });

  it('checks its arity', async () => {
    await t.client.expectReply(command('TOUCH'), "-ERR wrong number of arguments for 'touch' command\r\n", 'TOUCH needs at least one key: arity -2 in the command table');
  });

  it('does not count a key past its deadline, and deletes it', async () => {
    const before = await stats(t.client);
    // PXAT 1 is 1970: SET stores the key anyway (as Redis 7.0 does), already dead.
    await t.client.request(command('SET', 'dead', 'v', 'PXAT', '1'));
    await t.client.request(command('SET', 'alive', 'v', 'EX', '100'));
    await t.client.expectReply(
      command('TOUCH', 'dead', 'alive'),
      ':1\r\n',
      'a key past its deadline does not exist: look each key up through the keyspace (get or has), which expires it, never around it',
    );
    await t.client.expectReply(command('DBSIZE'), ':1\r\n', 'DBSIZE counts stored keys: the expired key should have been deleted by the lookup in TOUCH');
    const after = await stats(t.client);
    expectBytes(
      command('TOUCH', 'dead', 'alive'),
      `expired_keys:+${after.expired - before.expired}`,
      'expired_keys:+1',
      'INFO stats expired_keys counts the key TOUCH found past its deadline',
    );
  });

  it('counts a keyspace hit or miss for every key, as a read does', async () => {
    await t.client.request(command('SET', 'dead', 'v', 'PXAT', '1'));
    await t.client.request(command('SET', 'alive', 'v', 'EX', '100'));
    const before = await stats(t.client);
    const touch = command('TOUCH', 'dead', 'alive', 'missing', 'alive');
    await t.client.expectReply(touch, ':2\r\n');
    const after = await stats(t.client);
    expectBytes(
      touch,
      `keyspace_hits:+${after.hits - before.hits} keyspace_misses:+${after.misses - before.misses}`,
      'keyspace_hits:+2 keyspace_misses:+2',
      "Redis's TOUCH reads every key with lookupKeyRead, which counts INFO's keyspace_hits (alive, twice) and " +
        'keyspace_misses (missing, and dead, which is expired): use lookupKeyRead from keys.ts rather than c.db.has',
    );
  });
});
