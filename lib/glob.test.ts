// globMatch against a table of what Redis's stringmatchlen answers (util.c), which KEYS,
// CONFIG GET and PSUBSCRIBE all use.
import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.ts';

/** [pattern, text, matches] */
const CASES: Array<[string, string, boolean]> = [
  // Literals
  ['hello', 'hello', true],
  ['hello', 'hell', false],
  ['hello', 'helloo', false],
  ['', '', true],
  ['', 'a', false],
  // *
  ['*', 'anything', true],
  ['*', '', false], // only "" matches "" (KEYS * has its own shortcut)
  ['**', '', false],
  ['h*o', 'hello', true],
  ['h*o', 'ho', true],
  ['h*o', 'hell', false],
  ['*llo', 'hello', true],
  ['he*', 'he', true],
  ['a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
  ['a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaab', true],
  ['*b*', 'abc', true],
  ['**x', 'x', true],
  // ?
  ['h?llo', 'hello', true],
  ['h?llo', 'hllo', false],
  ['?', '', false],
  ['???', 'a\x00b', true],
  // Sets
  ['h[ae]llo', 'hallo', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hallo', true],
  ['h[^e]llo', 'hello', false],
  ['h[a-b]llo', 'hbllo', true],
  ['h[a-b]llo', 'hcllo', false],
  ['h[b-a]llo', 'hallo', true], // a reversed range is swapped
  ['[0-9][0-9]', '42', true],
  ['[^0-9]', '4', false],
  ['[a-]', ']', true], // "a-]" is the range ']'..'a', and the set runs on unclosed
  ['[a-]', '-', false],
  ['[]]', ']', false], // "[]" is an empty set
  ['[^]]', 'x]', true], // "[^]" is any byte, then a literal ]
  ['[\\]]', ']', true],
  ['[\\-]', '-', true],
  ['[abc', 'b', true], // an unclosed set ends with the pattern
  ['[abc', 'd', false],
  ['[', 'x', false],
  ['[^', 'x', true],
  // Escapes
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['a\\?', 'a?', true],
  ['a\\[b]', 'a[b]', true],
  ['a\\', 'a\\', true], // a trailing backslash is itself
  ['\\\\', '\\', true],
  // Binary
  ['k\x00*', 'k\x00\xff', true],
  ['k*', 'K', false],
];

describe('globMatch matches as Redis stringmatchlen does', () => {
  it.each(CASES)('%j against %j is %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('ignores case when asked to (CONFIG GET)', () => {
    expect(globMatch('APPEND*', 'appendonly', true)).toBe(true);
    expect(globMatch('[A-C]', 'b', true)).toBe(true);
    expect(globMatch('APPEND*', 'appendonly')).toBe(false);
  });

  it('stays linear on patterns that backtrack', () => {
    const text = 'a'.repeat(5000);
    expect(globMatch('*a*a*a*a*a*a*a*a*a*b', text)).toBe(false);
  });
});
