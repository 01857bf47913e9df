// Exercise 2: RANDOMKEY that never returns an expired key. Run: make check STEP=04 EX=2
import { beforeEach, describe, it } from 'vitest';
import { useServer } from '../../test/helpers/fixtures.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 2: RANDOMKEY', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
  beforeEach(async () => {
    await t.client.request(command('FLUSHALL'));
  });

  /** Stores `count` keys with a deadline in 1970: present, but already expired. */
  async function storeDeadKeys(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await t.client.request(command('SET', `dead:${i}`, 'v', 'PXAT', '1'));
  }

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
    await storeDeadKeys(30);
    await t.client.request(command('SET', 'alive', 'v'));
    for (let i = 0; i < 10; i++) {
      await t.client.expectReply(command('RANDOMKEY'), '$5\r\nalive\r\n', 'a key past its deadline must not come back: look the picked key up (which expires it) and pick again');
    }
  });

  it('answers nil when every key has expired, having deleted them all', async () => {
    await storeDeadKeys(30);
    await t.client.expectReply(command('RANDOMKEY'), '$-1\r\n', 'only expired keys: keep picking (each expired pick is deleted) until none is left');
    await t.client.expectReply(command('DBSIZE'), ':0\r\n', 'every expired key picked on the way should have been deleted');
  });
});
