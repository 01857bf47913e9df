// Reading replies: the client's side of RESP. ReplyParser reads any RESP2 or RESP3 value
// as a client receives it: the tests read what a server answered with it, a replica reads
// its master's replies during the handshake (step 08), and the capstone's load generator
// counts replies with it (step 10). Redis's own client side is hiredis (deps/hiredis/read.c,
// which redis-cli uses), and, for a replica, the line reads of replication.c.
import { ProtocolError } from './resp-request.ts';
import {
  NULL_ARRAY, NULL_BULK, array, boolean, bulk, double, error, integer, latin1Slice, map, push, set, simple, verbatim,
  type RespValue,
} from './resp.ts';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

/**
 * Incremental parser for any RESP2 or RESP3 value, as a client reads replies. Used by
 * tests, by a replica reading its master, and by the capstone's load generator.
 * next() returns the next complete value, or undefined until more bytes arrive; it
 * throws ProtocolError on bytes that are not RESP.
 */
export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;

  feed(chunk: Buffer): void {
    this.buf = this.pos >= this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** Bytes fed but not yet returned as part of a value. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos;
  }

  next(): RespValue | undefined {
    const result = this.value(this.pos);
    if (result === undefined) return undefined;
    this.pos = result.end;
    return result.value;
  }

  private value(at: number): { value: RespValue; end: number } | undefined {
    const eol = this.buf.indexOf(LF, at);
    if (eol === -1) return undefined;
    const type = String.fromCharCode(this.buf[at]!);
    const text = latin1Slice(this.buf, at + 1, eol > at && this.buf[eol - 1] === CR ? eol - 1 : eol);
    const next = eol + 1;
    switch (type) {
      case '+':
        return { value: simple(text), end: next };
      case '-':
        return { value: error(text), end: next };
      case ':':
        return { value: integer(parseInteger(text)), end: next };
      case '_':
        return { value: NULL_BULK, end: next };
      case ',':
        return { value: double(parseDouble(text)), end: next };
      case '#':
        return { value: boolean(text === 't'), end: next };
      case '(':
        return { value: integer(BigInt(text)), end: next };
      case '$':
      case '=':
      case '!': {
        const length = Number(text);
        if (length === -1) return { value: NULL_BULK, end: next };
        if (!Number.isInteger(length) || length < 0) throw new ProtocolError(`invalid bulk length '${text}'`);
        if (next + length + 2 > this.buf.length) return undefined;
        const payload = latin1Slice(this.buf, next, next + length);
        const end = next + length + 2;
        if (type === '=') return { value: verbatim(payload.slice(4), payload.slice(0, 3)), end };
        if (type === '!') return { value: error(payload), end };
        return { value: bulk(payload), end };
      }
      case '*':
      case '~':
      case '>':
      case '%': {
        const count = Number(text);
        if (count === -1) return { value: NULL_ARRAY, end: next };
        if (!Number.isInteger(count) || count < 0) throw new ProtocolError(`invalid aggregate length '${text}'`);
        const items: RespValue[] = [];
        let end = next;
        for (let i = 0; i < (type === '%' ? count * 2 : count); i++) {
          const item = this.value(end);
          if (item === undefined) return undefined;
          items.push(item.value);
          end = item.end;
        }
        if (type === '*') return { value: array(items), end };
        if (type === '~') return { value: set(items), end };
        if (type === '>') return { value: push(items), end };
        const entries: Array<[RespValue, RespValue]> = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
        return { value: map(entries), end };
      }
      default:
        throw new ProtocolError(`unexpected reply type '${type}'`);
    }
  }
}

function parseInteger(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
