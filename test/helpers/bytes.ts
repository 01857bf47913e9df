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

const MAX_SHOWN = 400;

function shorten(escaped: string): string {
  return escaped.length > MAX_SHOWN ? escaped.slice(0, MAX_SHOWN) + `… (${escaped.length} chars escaped)` : escaped;
}

/** The report shown when a reply is not the expected one. */
export function describeMismatch(sent: Buffer | string, expected: Buffer | string, received: Buffer | string, hint?: string): string {
  const exp = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
  const got = typeof received === 'string' ? Buffer.from(received, 'latin1') : received;
  let at = 0;
  while (at < exp.length && at < got.length && exp[at] === got[at]) at++;
  // The caret goes under the escaped form of byte `at`: count the escaped prefix.
  const caretColumn = escapeBytes(got.subarray(0, at)).length - 1;
  const lines = [
    '',
    `  sent:      ${shorten(escapeBytes(sent))}`,
    `  expected:  ${shorten(escapeBytes(exp))}`,
    `  received:  ${shorten(escapeBytes(got))}`,
    `             ${' '.repeat(Math.min(caretColumn, MAX_SHOWN))}^ first difference at byte ${at}`,
  ];
  if (at === got.length && got.length < exp.length) lines.push('  (the reply stopped short: the server sent less than expected)');
  if (hint) lines.push(`  hint: ${hint}`);
  return lines.join('\n');
}

export class ReplyMismatchError extends Error {
  constructor(sent: Buffer | string, expected: Buffer | string, received: Buffer | string, hint?: string) {
    super(describeMismatch(sent, expected, received, hint));
    this.name = 'ReplyMismatchError';
  }
}

/** Throws a teaching ReplyMismatchError unless `received` equals `expected` byte for byte. */
export function expectBytes(sent: Buffer | string, received: Buffer | string, expected: Buffer | string, hint?: string): void {
  const a = typeof received === 'string' ? Buffer.from(received, 'latin1') : received;
  const b = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
  if (!a.equals(b)) throw new ReplyMismatchError(sent, b, a, hint);
}
