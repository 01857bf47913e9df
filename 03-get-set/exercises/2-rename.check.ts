// Exercise 2: RENAME and RENAMENX.
// Run: make check STEP=03 EX=2   (TARGET=redis make check STEP=03 EX=2 shows real Redis)
import { describe, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 2: RENAME and RENAMENX', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
  const flush = () => t.client.expectReply(command('FLUSHALL'), '+OK\r\n');

  /** INFO's keyspace_hits and keyspace_misses lines, as the server reports them now. */
  const keyspaceCounters = async (): Promise<string> => {
    const info = (await t.client.request(command('INFO', 'stats'))).toString('latin1');
    return info.split('\r\n').filter((line) => /^keyspace_(hits|misses):/.test(line)).map((line) => `${line}\r\n`).join('');
  };

  it('RENAME moves a value to a new name', async () => {
    await flush();
    await t.client.expectReply(command('SET', 'old', 'value'), '+OK\r\n');
    await t.client.expectReply(command('RENAME', 'old', 'new'), '+OK\r\n', 'RENAME answers +OK');
    await t.client.expectReply(command('GET', 'new'), '$5\r\nvalue\r\n', 'the value is now under the new name');
    await t.client.expectReply(command('EXISTS', 'old'), ':0\r\n', 'and the old name is gone');
  });

  it('RENAME overwrites a key that has the new name', async () => {
    await flush();
    await t.client.expectReply(command('MSET', 'a', '1', 'b', '2'), '+OK\r\n');
    await t.client.expectReply(command('RENAME', 'a', 'b'), '+OK\r\n');
    await t.client.expectReply(command('GET', 'b'), '$1\r\n1\r\n', "b's old value is replaced");
    await t.client.expectReply(command('DBSIZE'), ':1\r\n', 'two keys became one');
  });

  it('RENAME of a missing key is an error', async () => {
    await flush();
    await t.client.expectReply(command('RENAME', 'ghost', 'x'), '-ERR no such key\r\n', "Redis's words: \"ERR no such key\"");
    const sameName = 'a missing key is an error even when both names are the same: look the key up before any shortcut for equal names';
    await t.client.expectReply(command('RENAME', 'ghost', 'ghost'), '-ERR no such key\r\n', sameName);
    await t.client.expectReply(command('RENAMENX', 'ghost', 'ghost'), '-ERR no such key\r\n', sameName);
    await t.client.expectReply(command('DBSIZE'), ':0\r\n', 'a refused RENAME creates nothing');
  });

  it('RENAME a key to itself keeps it', async () => {
    await flush();
    await t.client.expectReply(command('SET', 'same', 'v'), '+OK\r\n');
    await t.client.expectReply(command('RENAME', 'same', 'same'), '+OK\r\n');
    await t.client.expectReply(command('GET', 'same'), '$1\r\nv\r\n', 'with equal names, "set the new name, then delete the old one" deletes the value it just set');
  });

  it('RENAMENX renames only when the new name is free', async () => {
    await flush();
    await t.client.expectReply(command('MSET', 'a', '1', 'b', '2'), '+OK\r\n');
    await t.client.expectReply(command('RENAMENX', 'a', 'b'), ':0\r\n', 'b exists: answer 0 and change nothing');
    await t.client.expectReply(command('MGET', 'a', 'b'), '*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
    await t.client.expectReply(command('RENAMENX', 'a', 'c'), ':1\r\n', 'c is free: rename, answer 1');
    await t.client.expectReply(command('MGET', 'a', 'c'), '*2\r\n$-1\r\n$1\r\n1\r\n');
    await t.client.expectReply(command('RENAMENX', 'c', 'c'), ':0\r\n', 'renaming a key to itself: the new name is taken (by itself), so 0');
    await t.client.expectReply(command('GET', 'c'), '$1\r\n1\r\n');
  });

  it('RENAMENX of a missing key is an error, even when the new name is taken', async () => {
    await flush();
    await t.client.expectReply(command('RENAMENX', 'ghost', 'x'), '-ERR no such key\r\n');
    await t.client.expectReply(command('SET', 'taken', '1'), '+OK\r\n');
    await t.client.expectReply(
      command('RENAMENX', 'ghost', 'taken'),
      '-ERR no such key\r\n',
      'look up the key being renamed first: its absence is an error whatever the new name; only then does a taken name answer 0',
    );
  });

  it('RENAME and RENAMENX are writes: INFO counts no keyspace hit or miss for them', async () => {
    await flush();
    await t.client.expectReply(command('MSET', 'a', '1', 'b', '2'), '+OK\r\n');
    const before = await keyspaceCounters();
    await t.client.expectReply(command('RENAME', 'a', 'c'), '+OK\r\n');
    await t.client.expectReply(command('RENAMENX', 'b', 'c'), ':0\r\n');
    await t.client.expectReply(command('RENAMENX', 'b', 'd'), ':1\r\n');
    await t.client.expectReply(command('RENAME', 'ghost', 'x'), '-ERR no such key\r\n');
    expectBytes(
      command('INFO', 'stats'),
      await keyspaceCounters(),
      before,
      "keyspace_hits and keyspace_misses must not move: they count reads (GET, MGET: lookupKeyRead in keys.ts), and Redis's RENAME looks its key up for writing, which counts nothing. Read the Map directly",
    );
  });

  it('keys and values stay binary-safe', async () => {
    await flush();
    await t.client.expectReply(command('SET', 'k\x00\xff', 'v\r\n'), '+OK\r\n');
    await t.client.expectReply(command('RENAME', 'k\x00\xff', '\xfe'), '+OK\r\n');
    await t.client.expectReply(command('GET', '\xfe'), '$3\r\nv\r\n\r\n');
  });

  it('both are in the command table, with their arity', async () => {
    await t.client.expectReply(command('RENAME', 'a'), "-ERR wrong number of arguments for 'rename' command\r\n", 'RENAME key newkey: arity 3');
    await t.client.expectReply(command('renamenx', 'a', 'b', 'c'), "-ERR wrong number of arguments for 'renamenx' command\r\n");
  });
});
