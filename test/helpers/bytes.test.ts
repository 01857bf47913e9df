// The teaching failure output itself: what a learner reads when a reply, a file or a list
// of commands is not what it should be.
import { describe, expect, it } from 'vitest';
import {
  describeCommandsMismatch,
  describeMismatch,
  escapeBytes,
  expectBytes,
  expectBytesToContain,
  expectBytesToStartWith,
  expectCommands,
  expectContent,
} from './bytes.ts';

/** The column of the caret on the report's caret line, and that line's text after it. */
function caret(report: string): { column: number; says: string } {
  const line = report.split('\n').find((l) => /^\s*\^/.test(l))!;
  return { column: line.indexOf('^'), says: line.slice(line.indexOf('^') + 1).trim() };
}
const lineStarting = (report: string, label: string) => report.split('\n').find((l) => l.trimStart().startsWith(label))!;

describe('escapeBytes', () => {
  it('escapes CR, LF, tab, quotes, backslashes and every byte outside printable ASCII', () => {
    expect(escapeBytes('+OK\r\n')).toBe('"+OK\\r\\n"');
    expect(escapeBytes(Buffer.from([0x00, 0x09, 0x22, 0x5c, 0x41, 0x7f, 0xff]))).toBe('"\\x00\\t\\"\\\\A\\x7f\\xff"');
  });
});

describe('describeMismatch', () => {
  it('shows sent, expected and received escaped, and puts the caret under the first different byte', () => {
    const report = describeMismatch('GET k\r\n', '$1\r\nv\r\n', '$-1\r\n', 'hint text');
    expect(lineStarting(report, 'sent:')).toBe('  sent:      "GET k\\r\\n"');
    const received = lineStarting(report, 'received:');
    expect(received).toBe('  received:  "$-1\\r\\n"');
    expect(caret(report)).toEqual({ column: received.indexOf('-'), says: 'first difference at byte 1' });
    expect(report).toContain('  hint: hint text');
  });

  it('counts an escape as several columns when placing the caret', () => {
    const report = describeMismatch('x', 'a\r\nB', 'a\r\nC');
    expect(caret(report).column).toBe(lineStarting(report, 'received:').indexOf('C'));
  });

  it('says when the reply stopped short', () => {
    expect(describeMismatch('PING\r\n', '+PONG\r\n', '+PO')).toContain('the reply stopped short');
  });

  it('shows a difference deep inside a long value in a window around it', () => {
    const expected = Buffer.alloc(1_000_000, 'a');
    const received = Buffer.from(expected);
    received[700_000] = 0x62; // 'b'
    const report = describeMismatch('(a megabyte)', expected, received);
    const shown = lineStarting(report, 'received:');
    expect(shown).toMatch(/^ {2}received: {2}…"a{40}ba+… \(300040 bytes\)$/);
    expect(shown[caret(report).column]).toBe('b');
    expect(caret(report).says).toBe('first difference at byte 700000');
    expect(report).toContain('(the first 699960 bytes are the same and not shown)');
  });
});

describe('expectBytes, expectBytesToStartWith and expectBytesToContain', () => {
  it('pass on equal bytes, a matching start or a present part, and throw the teaching report otherwise', () => {
    expect(() => expectBytes('PING\r\n', '+PONG\r\n', '+PONG\r\n')).not.toThrow();
    expect(() => expectBytes('PING\r\n', '+PANG\r\n', '+PONG\r\n')).toThrow(/received: {2}"\+PANG\\r\\n"/);
    expect(() => expectBytesToStartWith('HELLO 3\r\n', '%7\r\n$6\r\nserver\r\n', '%7\r\n')).not.toThrow();
    expect(() => expectBytesToStartWith('HELLO 3\r\n', '*14\r\n$6\r\nserver\r\n', '%7\r\n', 'RESP3 answers a map')).toThrow(
      /expected: {2}"%7\\r\\n"\n {2}received: {2}"\*14\\r\\n\$6\\r\\nserver\\r\\n"[^]*hint: the reply must start with the expected bytes; RESP3 answers a map/,
    );
    expect(() => expectBytesToContain('HELLO 3\r\n', '%1\r\n$5\r\nproto\r\n:3\r\n', ':3\r\n')).not.toThrow();
    expect(() => expectBytesToContain('HELLO 3\r\n', '%1\r\n$5\r\nproto\r\n:2\r\n', ':3\r\n', 'proto is 3')).toThrow(
      /sent: {6}"HELLO 3\\r\\n"\n {2}expected, somewhere in the reply: {2}":3\\r\\n"\n {2}received: {2}"%1\\r\\n\$5\\r\\nproto\\r\\n:2\\r\\n"\n {2}hint: proto is 3/,
    );
  });
});

describe('expectContent', () => {
  it('names what it compared instead of what was sent', () => {
    expect(() => expectContent('appendonly.aof', 'abc', 'abc')).not.toThrow();
    let report = '';
    try {
      expectContent('appendonly.aof', '*1\r\n$3\r\nSET', '*1\r\n$3\r\nSET\r\n', 'leave the tail alone');
    } catch (err) {
      report = (err as Error).message;
    }
    expect(report).toContain('  in appendonly.aof:');
    expect(report).not.toContain('sent:');
    expect(report).toContain('the reply stopped short');
    expect(report).toContain('hint: leave the tail alone');
  });
});

describe('expectCommands', () => {
  const SELECT = ['SELECT', '0'];

  it('passes on the same commands in the same order', () => {
    expect(() => expectCommands('the AOF', [SELECT, ['SET', 'a', '1']], [SELECT, ['SET', 'a', '1']])).not.toThrow();
  });

  it('names the first command that differs, both escaped, with a caret under the differing byte', () => {
    const report = describeCommandsMismatch('the AOF', [SELECT, ['SET', 'k\r\n', '50']], [SELECT, ['SET', 'k\r\n', '0']], 'count again');
    expect(report).toContain('the AOF holds 2 commands, expected 2; command 2 is the first that differs:');
    expect(lineStarting(report, 'expected:')).toBe('  expected:  "SET" "k\\r\\n" "50"');
    const received = lineStarting(report, 'received:');
    expect(received).toBe('  received:  "SET" "k\\r\\n" "0"');
    expect(caret(report).column).toBe(received.lastIndexOf('0'));
    expect(report).toContain('      2  "SET" "k\\r\\n" "0"'); // the full list
    expect(report).toContain('hint: count again');
  });

  it('puts the caret after the last argument when the received command is shorter', () => {
    const report = describeCommandsMismatch('the AOF', [['SET', 'k', 'v', 'PXAT', '9']], [['SET', 'k', 'v']]);
    const received = lineStarting(report, 'received:');
    expect(caret(report).column).toBe(received.length + 1);
  });

  it('says which commands are missing or unexpected', () => {
    expect(describeCommandsMismatch('the AOF', [SELECT, ['SET', 'a', '1']], [SELECT])).toContain(
      'the AOF holds 1 command, expected 2; missing from command 2 on, the first missing: "SET" "a" "1"',
    );
    expect(describeCommandsMismatch('the AOF', [SELECT], [SELECT, ['DEL', 'a']])).toContain(
      'the AOF holds 2 commands, expected 1; unexpected from command 2 on, the first of them: "DEL" "a"',
    );
    expect(() => expectCommands('the AOF', [], [SELECT])).toThrow(/expected commands:\n {6}1 {2}"SELECT" "0"\n {2}received commands:\n\s+\(none\)/);
  });
});
