// Failure messages that teach: what was sent, what came back and what was expected, all
// escaped so \r\n shows, with a caret under the first byte that differs.

/** Bytes as a double-quoted string with \r, \n, \t, \\, \" and \xHH escaped. */
export function escapeBytes(bytes: Buffer | string): string {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  let out = '"';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c === '\r') out += '\\r';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '"' || c === '\\') out += '\\' + c;
    else if (code < 0x20 || code > 0x7e) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += c;
  }
  return out + '"';
}

/** At most this many escaped characters of one value are shown. */
const MAX_SHOWN = 400;
/** A difference further in than this is shown in a window that starts shortly before it. */
const CARET_ROOM = 300;
/** How many bytes before the difference such a window shows. */
const WINDOW_LEAD = 40;

const asBuffer = (bytes: Buffer | string) => (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);

/** A line of text (what a terminal printed) quoted: control characters escaped, any other character as is. */
export function escapeText(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '\r') out += '\\r';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '"' || c === '\\') out += '\\' + c;
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += c;
  }
  return out + '"';
}

/** How values are shown: bytes (each escaped as latin1), or text (in characters). */
interface Units {
  escape(text: string): string;
  name: 'byte' | 'character';
  stoppedShort: string;
}

const BYTES: Units = { escape: escapeBytes, name: 'byte', stoppedShort: 'the reply stopped short: the server sent less than expected' };
const TEXT: Units = { escape: escapeText, name: 'character', stoppedShort: 'the line stops short' };

/** A value escaped for a message: at most MAX_SHOWN characters of it, then how long it was. */
function show(text: string, units: Units): string {
  // Escaping never shortens: MAX_SHOWN units are enough to fill MAX_SHOWN characters.
  const escaped = units.escape(text.slice(0, MAX_SHOWN));
  if (text.length <= MAX_SHOWN && escaped.length <= MAX_SHOWN) return escaped;
  return `${escaped.slice(0, MAX_SHOWN)}… (${text.length} ${units.name}s)`;
}

/** Bytes escaped for a message: at most MAX_SHOWN characters of them, then how many there were. */
export function showBytes(bytes: Buffer | string): string {
  return show(asBuffer(bytes).toString('latin1'), BYTES);
}

/** The index of the first unit where `a` and `b` differ (the shorter length if one is a prefix). */
function firstDifference(a: string, b: string): number {
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  return at;
}

/**
 * The "expected" and "received" lines of a report, and a caret under the first unit that
 * differs. A difference deep inside a long value (byte 5,000,000 of an 8 MiB echo) is shown
 * in a window that starts a little before it, both values cut at the same place.
 */
function comparison(expected: string, received: string, at: number, units: Units): string[] {
  const windowed = at > CARET_ROOM || units.escape(received.slice(0, at)).length > CARET_ROOM;
  const from = windowed ? at - WINDOW_LEAD : 0;
  const lead = windowed ? '…' : '';
  const shown = (text: string) => lead + show(text.slice(from), units);
  // The caret goes under the escaped form of unit `at`: count the escaped units before it.
  const caretColumn = lead.length + units.escape(received.slice(from, at)).length - 1;
  const lines = [
    `  expected:  ${shown(expected)}`,
    `  received:  ${shown(received)}`,
    `             ${' '.repeat(Math.min(caretColumn, MAX_SHOWN + lead.length))}^ first difference at ${units.name} ${at}`,
  ];
  if (windowed) lines.push(`  (the first ${from} ${units.name}s are the same and not shown)`);
  if (at === received.length && received.length < expected.length) lines.push(`  (${units.stoppedShort})`);
  return lines;
}

/** comparison() of two byte strings. */
export function comparisonLines(expected: Buffer, received: Buffer): string[] {
  const [e, r] = [expected.toString('latin1'), received.toString('latin1')];
  return comparison(e, r, firstDifference(e, r), BYTES);
}

/**
 * comparison() of two lines of text, in characters; `at` puts the caret elsewhere than at
 * the first difference, for a caller that compares otherwise (a pattern with wildcards).
 */
export function textComparisonLines(expected: string, received: string, at = firstDifference(expected, received)): string[] {
  return comparison(expected, received, at, TEXT);
}

const hintLines = (hint?: string) => (hint ? [`  hint: ${hint}`] : []);

/**
 * Returns `err` with its stack starting where a test called `helper` (which must be on the
 * stack: the function that throws, or an async one awaiting the failure). vitest prints the
 * code of a failure's top frame under its message; the line worth reading there is the
 * check's, `await client.expectReply(...)`, not the helper's own `throw`.
 */
export function thrownBy<E extends Error>(helper: (...args: never[]) => unknown, err: E): E {
  Error.captureStackTrace(err, helper);
  return err;
}

/** The report shown when a reply is not the expected one. */
export function describeMismatch(sent: Buffer | string, expected: Buffer | string, received: Buffer | string, hint?: string): string {
  return ['', `  sent:      ${showBytes(sent)}`, ...comparisonLines(asBuffer(expected), asBuffer(received)), ...hintLines(hint)].join('\n');
}

export class ReplyMismatchError extends Error {
  constructor(sent: Buffer | string, expected: Buffer | string, received: Buffer | string, hint?: string) {
    super(describeMismatch(sent, expected, received, hint));
    this.name = 'ReplyMismatchError';
  }
}

/** Throws a teaching ReplyMismatchError unless `received` equals `expected` byte for byte. */
export function expectBytes(sent: Buffer | string, received: Buffer | string, expected: Buffer | string, hint?: string): void {
  const a = asBuffer(received);
  const b = asBuffer(expected);
  if (!a.equals(b)) throw thrownBy(expectBytes, new ReplyMismatchError(sent, b, a, hint));
}

/** Throws a teaching ReplyMismatchError unless `received` begins with the bytes of `prefix`. */
export function expectBytesToStartWith(sent: Buffer | string, received: Buffer | string, prefix: Buffer | string, hint?: string): void {
  const got = asBuffer(received);
  const start = asBuffer(prefix);
  if (!got.subarray(0, start.length).equals(start)) {
    throw thrownBy(expectBytesToStartWith, new ReplyMismatchError(sent, start, got, `the reply must start with the expected bytes${hint ? `; ${hint}` : ''}`));
  }
}

/** A teaching report that is not one reply against another: a file, a list of commands, a part of a reply. */
export class ContentMismatchError extends Error {
  constructor(report: string) {
    super(report);
    this.name = 'ContentMismatchError';
  }
}

/** Throws a teaching ContentMismatchError unless the bytes of `part` occur somewhere in `received`. */
export function expectBytesToContain(sent: Buffer | string, received: Buffer | string, part: Buffer | string, hint?: string): void {
  if (asBuffer(received).includes(asBuffer(part))) return;
  const report = ['', `  sent:      ${showBytes(sent)}`, `  expected, somewhere in the reply:  ${showBytes(part)}`, `  received:  ${showBytes(received)}`, ...hintLines(hint)];
  throw thrownBy(expectBytesToContain, new ContentMismatchError(report.join('\n')));
}

/**
 * Throws a teaching ContentMismatchError unless `received` (the bytes of `what`, e.g. "the
 * AOF file") equals `expected` byte for byte.
 */
export function expectContent(what: string, received: Buffer | string, expected: Buffer | string, hint?: string): void {
  const got = asBuffer(received);
  const want = asBuffer(expected);
  if (got.equals(want)) return;
  throw thrownBy(expectContent, new ContentMismatchError(['', `  in ${what}:`, ...comparisonLines(want, got), ...hintLines(hint)].join('\n')));
}

const sameCommand = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((arg, i) => arg === b[i]);

/** A command as it reads in a report: each argument escaped, separated by spaces. */
export const showCommand = (args: readonly string[]): string => args.map((a) => escapeBytes(a)).join(' ');

const MAX_LISTED = 20;

/** A numbered list of commands, the first MAX_LISTED of them. */
function listLines(commands: readonly string[][]): string[] {
  const lines = commands.slice(0, MAX_LISTED).map((args, i) => `    ${String(i + 1).padStart(3)}  ${showCommand(args)}`);
  if (commands.length > MAX_LISTED) lines.push(`         … and ${commands.length - MAX_LISTED} more`);
  if (commands.length === 0) lines.push('         (none)');
  return lines;
}

/** Where the caret goes under showCommand(received): the first argument that differs, at its first differing byte. */
function commandCaret(expected: readonly string[], received: readonly string[]): number {
  let arg = 0;
  while (arg < expected.length && arg < received.length && expected[arg] === received[arg]) arg++;
  const before = showCommand(received.slice(0, arg));
  if (arg >= received.length) return before.length + (arg > 0 ? 1 : 0);
  const same = firstDifference(expected[arg] ?? '', received[arg]!);
  return before.length + (arg > 0 ? 1 : 0) + escapeBytes(received[arg]!.slice(0, same)).length - 1;
}

/** The report for two lists of commands: which command differs first, both shown escaped, then both lists. */
export function describeCommandsMismatch(what: string, expected: readonly string[][], received: readonly string[][], hint?: string): string {
  let i = 0;
  while (i < expected.length && i < received.length && sameCommand(expected[i]!, received[i]!)) i++;
  const counts = `${what} holds ${received.length} command${received.length === 1 ? '' : 's'}, expected ${expected.length}`;
  const lines = [''];
  if (i < expected.length && i < received.length) {
    lines.push(
      `  ${counts}; command ${i + 1} is the first that differs:`,
      `  expected:  ${showCommand(expected[i]!)}`,
      `  received:  ${showCommand(received[i]!)}`,
      `             ${' '.repeat(commandCaret(expected[i]!, received[i]!))}^`,
    );
  } else if (i < expected.length) {
    lines.push(`  ${counts}; missing from command ${i + 1} on, the first missing: ${showCommand(expected[i]!)}`);
  } else {
    lines.push(`  ${counts}; unexpected from command ${i + 1} on, the first of them: ${showCommand(received[i]!)}`);
  }
  lines.push('  expected commands:', ...listLines(expected), '  received commands:', ...listLines(received), ...hintLines(hint));
  return lines.join('\n');
}

/**
 * Throws a teaching ContentMismatchError unless `received` holds exactly the `expected`
 * commands (argument lists) in order; `what` names where they came from ("the AOF").
 */
export function expectCommands(what: string, received: readonly string[][], expected: readonly string[][], hint?: string): void {
  if (received.length === expected.length && received.every((args, i) => sameCommand(args, expected[i]!))) return;
  throw thrownBy(expectCommands, new ContentMismatchError(describeCommandsMismatch(what, expected, received, hint)));
}

/** Cuts `bytes` into chunks at the given positions (taken modulo its length), as reads might. */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

/** One change to a byte stream, as a property test generates them. */
export interface ByteMutation {
  at: number;
  kind: 'flip' | 'insert' | 'delete' | 'truncate';
  byte: number;
}

/** Applies mutations in order, each at a position taken modulo the stream's length. */
export function applyMutations(bytes: Buffer, mutations: readonly ByteMutation[]): Buffer {
  const out = [...bytes];
  for (const { at, kind, byte } of mutations) {
    const i = at % (out.length + 1);
    if (kind === 'flip') out[i] = byte;
    else if (kind === 'insert') out.splice(i, 0, byte);
    else if (kind === 'delete') out.splice(i, 1);
    else out.length = i;
  }
  return Buffer.from(out);
}
