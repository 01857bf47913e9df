// Exercise 3: LCS key1 key2 [LEN], the longest common subsequence of two values.
// Run: make check STEP=03 EX=3   (TARGET=redis make check STEP=03 EX=3 shows real Redis)
import { beforeEach, describe, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 3: LCS', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
  beforeEach(async () => {
    await t.client.expectReply(command('FLUSHALL'), '+OK\r\n');
  });

  /** INFO's keyspace_hits and keyspace_misses, as numbers. */
  const keyspaceCounters = async (): Promise<{ hits: number; misses: number }> => {
    const info = (await t.client.request(command('INFO', 'stats'))).toString('latin1');
    const field = (name: string) => Number(new RegExp(`\r\n${name}:(\\d+)\r\n`).exec(info)?.[1]);
    return { hits: field('keyspace_hits'), misses: field('keyspace_misses') };
  };
  const showCounters = ({ hits, misses }: { hits: number; misses: number }) => `keyspace_hits:${hits}\r\nkeyspace_misses:${misses}\r\n`;

  it('answers the longest common subsequence', async () => {
    await t.client.expectReply(command('MSET', 'key1', 'ohmytext', 'key2', 'mynewtext'), '+OK\r\n');
    await t.client.expectReply(command('LCS', 'key1', 'key2'), '$6\r\nmytext\r\n', 'the bytes both values contain in the same order, not necessarily next to each other');
    await t.client.expectReply(command('LCS', 'key1', 'key1'), '$8\r\nohmytext\r\n', 'a value has everything in common with itself');
  });

  it('LEN answers only its length', async () => {
    await t.client.expectReply(command('MSET', 'key1', 'ohmytext', 'key2', 'mynewtext'), '+OK\r\n');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'LEN'), ':6\r\n', 'with LEN the reply is an integer');
    await t.client.expectReply(command('lcs', 'key1', 'key2', 'len'), ':6\r\n', 'the option is case-insensitive');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'LEN', 'LEN'), ':6\r\n', 'an option may repeat');
  });

  it('picks the same subsequence as Redis when several are equally long', async () => {
    await t.client.expectReply(command('MSET', 'a', 'abcbdab', 'b', 'bdcaba'), '+OK\r\n');
    await t.client.expectReply(
      command('LCS', 'a', 'b'),
      '$4\r\nbdab\r\n',
      '"bcba", "bcab" and "bdab" are all 4 long. Walk the table back from the end: on equal bytes take the byte; otherwise move up (i-1) only if that cell is strictly greater than the one to the left (j-1), else move left',
    );
    await t.client.expectReply(command('LCS', 'b', 'a'), '$4\r\nbcba\r\n', 'the same rule with the keys swapped gives another answer');
    await t.client.expectReply(command('MSET', 'x', 'ab', 'y', 'ba'), '+OK\r\n');
    await t.client.expectReply(command('LCS', 'x', 'y'), '$1\r\nb\r\n', 'a tie at the very first step: move left');
  });

  it('treats a missing key as an empty string', async () => {
    await t.client.expectReply(command('SET', 'key1', 'ohmytext'), '+OK\r\n');
    const hint = 'a missing key is an empty string here, and the LCS of anything with "" is "": an empty bulk string "$0\\r\\n\\r\\n", not nil';
    await t.client.expectReply(command('LCS', 'key1', 'nokey'), '$0\r\n\r\n', hint);
    await t.client.expectReply(command('LCS', 'nokey', 'key1'), '$0\r\n\r\n', hint);
    await t.client.expectReply(command('LCS', 'nokey1', 'nokey2'), '$0\r\n\r\n', hint);
    await t.client.expectReply(command('LCS', 'nokey1', 'nokey2', 'LEN'), ':0\r\n');
  });

  it('handles empty values', async () => {
    await t.client.expectReply(command('MSET', 'empty', '', 'key1', 'ohmytext'), '+OK\r\n');
    await t.client.expectReply(command('LCS', 'empty', 'key1'), '$0\r\n\r\n', 'an empty value is a value: the answer is the empty string');
    await t.client.expectReply(command('LCS', 'empty', 'empty', 'LEN'), ':0\r\n');
  });

  it('is binary-safe', async () => {
    await t.client.expectReply(command('MSET', 'e', '\x00\xff\x01', 'f', '\xff\x00'), '+OK\r\n');
    await t.client.expectReply(command('LCS', 'e', 'f'), '$1\r\n\xff\r\n', 'compare bytes, never decoded text');
  });

  it('is a read: INFO counts a keyspace hit or miss for each of its keys', async () => {
    await t.client.expectReply(command('SET', 'key1', 'ohmytext'), '+OK\r\n');
    const before = await keyspaceCounters();
    await t.client.expectReply(command('LCS', 'key1', 'nokey'), '$0\r\n\r\n');
    await t.client.expectReply(command('LCS', 'key1', 'key1', 'LEN'), ':8\r\n');
    expectBytes(
      command('INFO', 'stats'),
      showCounters(await keyspaceCounters()),
      showCounters({ hits: before.hits + 3, misses: before.misses + 1 }),
      'LCS reads its two keys as GET does: look each up with lookupKeyRead (keys.ts), which counts a hit or a miss; c.db.get counts nothing',
    );
  });

  it('refuses a table that would not fit, before building it', async () => {
    const big = 40_000;
    await t.client.expectReply(command('MSET', 'x', 'a'.repeat(big), 'y', 'b'.repeat(big)), '+OK\r\n');
    await t.client.expectReply(
      command('LCS', 'x', 'y'),
      '-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n',
      'the table has (len1 + 1) × (len2 + 1) cells of 4 bytes; above 512 MB (536870912 bytes) Redis refuses',
    );
  });

  it('words its errors as Redis does', async () => {
    await t.client.expectReply(command('LCS', 'key1'), "-ERR wrong number of arguments for 'lcs' command\r\n", 'LCS key1 key2 [LEN]: arity -3');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'FOO'), '-ERR syntax error\r\n', 'an unknown option is a syntax error');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'LEN', 'FOO'), '-ERR syntax error\r\n', 'every option is checked, not only the first');
  });
});
