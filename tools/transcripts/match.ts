// Comparing what a terminal printed with what the doc shows. Per line: it is compared as a
// terminal shows it (a \r returns to the line's start), trailing whitespace ignored; `…` in
// an expected line matches any run of characters within the line; the pid, role, date and
// time of a redis-server-style log line are not compared. A line that is only `...` or `…`
// matches any number of lines (as the last line shown from a program still running, what it
// prints until it pauses). With
// `any-order`, a command's lines are compared as a multiset, redis-cli's element numbers
// (`1) `, `2~ `, `3# `) ignored.
import type { ExpectedLine } from './parse.ts';
import type { OutputStream } from './output.ts';

/** `676:M 01 Dec 2026 07:03:05.603 `: what redis-server (and the workshop) put before a log message. */
const LOG_PREFIX = /^\d+:[A-Z] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} /;

export const isAnyLines = (text: string): boolean => text.trim() === '...' || text.trim() === '…';

/**
 * A line as a terminal shows it. A carriage return sends the cursor back to the start of the
 * line, and what follows is written over what was there: a \r at the end (a RESP reply
 * through nc, redis-cli's raw INFO) shows nothing, and a progress counter redrawn in place
 * (redis-benchmark's) shows only its last state.
 */
export function asShown(line: string): string {
  let shown = '';
  for (const piece of line.split('\r')) shown = piece + shown.slice(piece.length);
  return shown;
}

const clean = (line: string): string => asShown(line).trimEnd();

/**
 * How far `received` agrees with the `expected` line: its length when they match, else the
 * index of the first character of `received` that no match can explain (where the caret
 * goes). Also returns the received line as compared (log prefix taken from the expected one).
 */
export function agreement(expected: string, received: string): { matches: boolean; at: number } {
  const e = clean(expected);
  let r = clean(received);
  let shift = 0;
  const ePrefix = LOG_PREFIX.exec(e)?.[0];
  const rPrefix = LOG_PREFIX.exec(r)?.[0];
  if (ePrefix !== undefined && rPrefix !== undefined) {
    r = ePrefix + r.slice(rPrefix.length);
    shift = rPrefix.length - ePrefix.length;
  }
  // The positions in `e` a prefix of `r` can have reached; `…` matches any run, even empty.
  const closure = (states: Set<number>) => {
    for (const j of states) if (e[j] === '…') states.add(j + 1);
    return states;
  };
  let states = closure(new Set([0]));
  for (let k = 0; k < r.length; k++) {
    const next = new Set<number>();
    for (const j of states) {
      if (e[j] === '…') next.add(j);
      else if (e[j] === r[k]) next.add(j + 1);
    }
    if (next.size === 0) return { matches: false, at: Math.max(0, k + shift) };
    states = closure(next);
  }
  return { matches: states.has(e.length), at: r.length + shift };
}

export const lineMatches = (expected: string, received: string): boolean => agreement(expected, received).matches;

/** Why a command's output is not what the doc shows. */
export type Mismatch =
  | { kind: 'differs'; expected: ExpectedLine; received: string }
  | { kind: 'missing'; expected: ExpectedLine }
  | { kind: 'extra'; received: string }
  | { kind: 'any-order'; expected: ExpectedLine[]; received: string[]; unmatched: string[] };

/**
 * Where a step's output comes from: `complete` lines are all its command printed (none may be
 * left over); after them, lines come from `stream` as they arrive (a server's log, nc, a
 * subscriber), each waited for at most `waitMs`.
 */
export interface OutputSource {
  complete: string[];
  stream: OutputStream | null;
  waitMs: number;
}

/** How long a running program's output must pause for a trailing `…` to have matched all of it. */
const QUIET_MS = 300;

class Reader {
  constructor(private readonly source: OutputSource) {}

  async next(): Promise<string | undefined> {
    if (this.source.complete.length > 0) return this.source.complete.shift();
    return this.source.stream?.next(this.source.waitMs);
  }

  /** Skips what the stream prints until nothing more arrives for QUIET_MS (at most waitMs in all). */
  async skipUntilQuiet(): Promise<void> {
    const { stream, waitMs } = this.source;
    const deadline = Date.now() + waitMs;
    while (stream !== null && Date.now() < deadline && (await stream.next(Math.min(QUIET_MS, deadline - Date.now()))) !== undefined);
  }

  /** Lines of the complete part nobody matched. */
  leftover(): string[] {
    return this.source.complete;
  }
}

export async function matchOutput(expected: readonly ExpectedLine[], source: OutputSource, anyOrder: boolean): Promise<Mismatch | null> {
  if (anyOrder) return matchAnyOrder(expected, source);
  const reader = new Reader(source);
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i]!;
    if (isAnyLines(want.text)) {
      const target = expected[i + 1];
      if (target === undefined) {
        // The rest of the command's output, whatever it is: all a finished command printed,
        // or, from a program still running (nc, a subscriber), what it prints until it falls
        // quiet, so that none of it is taken for the output of the next line typed.
        if (source.complete.length > 0) source.complete.length = 0;
        else await reader.skipUntilQuiet();
        break;
      }
      for (;;) {
        const got = await reader.next();
        if (got === undefined) return { kind: 'missing', expected: target };
        if (lineMatches(target.text, got)) break;
      }
      i++;
      continue;
    }
    const got = await reader.next();
    if (got === undefined) return { kind: 'missing', expected: want };
    if (!lineMatches(want.text, got)) return { kind: 'differs', expected: want, received: got };
  }
  const extra = reader.leftover().shift();
  return extra === undefined ? null : { kind: 'extra', received: extra };
}

/** redis-cli numbers each element; in a reply whose order varies, the numbers move with it. */
const withoutElementNumber = (line: string): string => line.replace(/^\s*\d+([)~#]) /, '$1 ');

async function matchAnyOrder(expected: readonly ExpectedLine[], source: OutputSource): Promise<Mismatch | null> {
  const received = source.complete.splice(0);
  while (received.length < expected.length && source.stream !== null) {
    const line = await source.stream.next(source.waitMs);
    if (line === undefined) break;
    received.push(line);
  }
  const unused = expected.map((e) => withoutElementNumber(e.text));
  const unmatched: string[] = [];
  for (const line of received) {
    const at = unused.findIndex((e) => lineMatches(e, withoutElementNumber(line)));
    if (at >= 0) unused.splice(at, 1);
    else unmatched.push(line);
  }
  if (unmatched.length === 0 && unused.length === 0) return null;
  return { kind: 'any-order', expected: [...expected], received, unmatched };
}
