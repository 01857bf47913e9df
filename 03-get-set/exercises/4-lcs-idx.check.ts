// Exercise 4: LCS key1 key2 IDX [MINMATCHLEN len] [WITHMATCHLEN], where the common runs are.
// Run: make check STEP=03 EX=4   (TARGET=redis make check STEP=03 EX=4 shows real Redis)
import { beforeEach, describe, it } from 'vitest';
import { command } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

/** One entry of IDX's "matches": the run's [start, end] in key1, in key2, and with WITHMATCHLEN its length. */
function match(inA: [number, number], inB: [number, number], length?: number): string {
  const ints = (...ns: number[]) => ns.map((n) => `:${n}\r\n`).join('');
  return `*${length === undefined ? 2 : 3}\r\n*2\r\n${ints(...inA)}*2\r\n${ints(...inB)}${length === undefined ? '' : ints(length)}`;
}

/** IDX's reply: a map of "matches" and "len"; in RESP2, a flat array of four. */
function idxReply(matches: string[], length: number, protocol: 2 | 3 = 2): string {
  return `${protocol === 3 ? '%2' : '*4'}\r\n$7\r\nmatches\r\n*${matches.length}\r\n${matches.join('')}$3\r\nlen\r\n:${length}\r\n`;
}

describe('exercise 4: LCS IDX, MINMATCHLEN and WITHMATCHLEN', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
  beforeEach(async () => {
    await t.client.expectReply(command('FLUSHALL'), '+OK\r\n');
    await t.client.expectReply(command('MSET', 'key1', 'ohmytext', 'key2', 'mynewtext'), '+OK\r\n');
  });

  it('IDX answers where the runs are, the last run first, and the length', async () => {
    // "ohmytext" and "mynewtext" share "my" (key1 2-3, key2 0-1) and "text" (key1 4-7, key2 5-8).
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'IDX'),
      idxReply([match([4, 7], [5, 8]), match([2, 3], [0, 1])], 6),
      'collect each run of matches while you walk the table back from the end, and list them in the order the walk finds them: last first. In RESP2 the map is a flat array of 4',
    );
    await t.client.expectReply(command('lcs', 'key1', 'key2', 'idx'), idxReply([match([4, 7], [5, 8]), match([2, 3], [0, 1])], 6), 'options are case-insensitive');
  });

  it('IDX follows the same walk as the string, ties included', async () => {
    await t.client.expectReply(command('MSET', 'a', 'abcbdab', 'b', 'bdcaba'), '+OK\r\n');
    await t.client.expectReply(
      command('LCS', 'a', 'b', 'IDX'),
      idxReply([match([5, 6], [3, 4]), match([3, 4], [0, 1])], 4),
      '"bdab" is "bd" and "ab": a run ends where the walk leaves the diagonal',
    );
    await t.client.expectReply(
      command('LCS', 'b', 'a', 'IDX', 'WITHMATCHLEN'),
      idxReply([match([5, 5], [5, 5], 1), match([4, 4], [3, 3], 1), match([2, 2], [2, 2], 1), match([0, 0], [1, 1], 1)], 4),
    );
  });

  it('WITHMATCHLEN adds the length of each run', async () => {
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'IDX', 'WITHMATCHLEN'),
      idxReply([match([4, 7], [5, 8], 4), match([2, 3], [0, 1], 2)], 6),
      'each entry gets a third element, the run length, after the two ranges',
    );
  });

  it('MINMATCHLEN leaves out the shorter runs, not the length', async () => {
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'),
      idxReply([match([4, 7], [5, 8], 4)], 6),
      'a run shorter than MINMATCHLEN is not listed, but "len" is still the whole LCS length',
    );
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'MINMATCHLEN', '-5', 'IDX'),
      idxReply([match([4, 7], [5, 8]), match([2, 3], [0, 1])], 6),
      'a negative MINMATCHLEN is not an error: it counts as 0, and options come in any order',
    );
  });

  it('in RESP3 the reply is a map', async () => {
    await t.client.request(command('HELLO', '3'));
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'IDX'),
      idxReply([match([4, 7], [5, 8]), match([2, 3], [0, 1])], 6, 3),
      'return map([...]) from lib/resp.ts and the connection picks "%2" (RESP3) or "*4" (RESP2)',
    );
  });

  it('missing keys have no runs', async () => {
    await t.client.expectReply(command('LCS', 'key1', 'nokey', 'IDX'), idxReply([], 0), 'a missing key is an empty string: no matches, length 0');
  });

  it('accepts MINMATCHLEN and WITHMATCHLEN without IDX, and ignores them', async () => {
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'WITHMATCHLEN'), '$6\r\nmytext\r\n');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'LEN', 'MINMATCHLEN', '3'), ':6\r\n');
  });

  it('refuses what Redis refuses, with its words', async () => {
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'LEN', 'IDX'),
      '-ERR If you want both the length and indexes, please just use IDX.\r\n',
      'LEN and IDX together are refused: IDX already answers the length',
    );
    await t.client.expectReply(
      command('LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN'),
      '-ERR syntax error\r\n',
      'MINMATCHLEN is an option only when a value follows it; as the last argument it is an unknown word',
    );
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', 'four'), '-ERR value is not an integer or out of range\r\n');
    await t.client.expectReply(command('LCS', 'key1', 'key2', 'IDX', 'FOO'), '-ERR syntax error\r\n');
  });
});
