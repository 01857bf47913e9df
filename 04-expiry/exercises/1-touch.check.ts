// Exercise 1: TOUCH, and the keys it must not count. Run: make check STEP=04 EX=1
import { beforeEach, describe, expect, it } from 'vitest';
import { useServer } from '../../test/helpers/fixtures.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 1: TOUCH', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
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
    // PXAT 1 is 1970: SET stores the key anyway (as Redis 7.0 does), already dead.
    await t.client.request(command('SET', 'dead', 'v', 'PXAT', '1'));
    await t.client.request(command('SET', 'alive', 'v', 'EX', '100'));
    await t.client.expectReply(command('TOUCH', 'dead', 'alive'), ':1\r\n', 'look each key up through the keyspace, so an expired one is expired, not counted');
    await t.client.expectReply(command('DBSIZE'), ':1\r\n', 'the expired key should have been deleted by the lookup');
    const info = (await t.client.request(command('INFO', 'stats'))).toString('latin1');
    expect(/expired_keys:(\d+)/.exec(info)?.[1], 'INFO stats expired_keys counts the key TOUCH expired').toBe('1');
  });
});
