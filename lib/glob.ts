// Redis's glob patterns (KEYS, CONFIG GET, PSUBSCRIBE): `*` any run, `?` any one byte,
// `[abc]` `[^abc]` `[a-z]` a set, and `\x` a literal x.
//
// The matcher keeps one backtrack point, at the last `*`, so it runs in
// O(pattern × text) even for patterns like "a*a*a*a*b".

export function globMatch(pattern: string, text: string, noCase = false): boolean {
  if (noCase) {
    pattern = pattern.toLowerCase();
    text = text.toLowerCase();
  }
  // Redis compares while both pattern and text remain, so an empty text matches only an
  // empty pattern: not even "*" (KEYS * lists the empty key by a shortcut of its own).
  if (text.length === 0) return pattern.length === 0;
  let p = 0;
  let t = 0;
  let starP = -1; // where in the pattern the last `*` was
  let starT = 0; // how much text that `*` has swallowed so far
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      while (pattern[p] === '*') p++;
      if (p === pattern.length) return true;
      starP = p;
      starT = t;
      continue;
    }
    const step = p < pattern.length ? matchOne(pattern, p, text[t]!) : -1;
    if (step > 0) {
      p += step;
      t++;
    } else if (starP >= 0) {
      // Let the last `*` swallow one more byte and try again from there.
      p = starP;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Matches one pattern element at `p` against one character. Returns how many pattern
 * characters the element spans, or -1 when it does not match.
 */
function matchOne(pattern: string, p: number, c: string): number {
  switch (pattern[p]) {
    case '?':
      return 1;
    case '[':
      return matchSet(pattern, p, c);
    case '\\':
      if (p + 1 < pattern.length) return pattern[p + 1] === c ? 2 : -1;
      return c === '\\' ? 1 : -1;
    default:
      return pattern[p] === c ? 1 : -1;
  }
}

/** `[...]` at `p`. An unclosed set runs to the end of the pattern, as in Redis. */
function matchSet(pattern: string, p: number, c: string): number {
  let i = p + 1;
  const negate = pattern[i] === '^';
  if (negate) i++;
  let matched = false;
  for (; i < pattern.length && pattern[i] !== ']'; i++) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      i++;
      if (pattern[i] === c) matched = true;
    } else if (pattern[i + 1] === '-' && i + 2 < pattern.length) {
      let lo = pattern[i]!;
      let hi = pattern[i + 2]!;
      if (lo > hi) [lo, hi] = [hi, lo];
      if (c >= lo && c <= hi) matched = true;
      i += 2;
    } else if (pattern[i] === c) {
      matched = true;
    }
  }
  const span = (i < pattern.length ? i + 1 : i) - p;
  return matched !== negate ? span : -1;
}
