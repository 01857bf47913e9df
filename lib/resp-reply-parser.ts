// Reading replies: the client's side of RESP. ReplyParser reads any RESP2 or RESP3 value
// as a client receives it: the tests read what a server answered with it, a replica reads
// its master's replies during the handshake (step 08), and the capstone's load generator
// counts replies with it (step 10). Redis's own client side is hiredis (deps/hiredis/read.c,
// which redis-cli uses), and, for a replica, the line reads of replication.c.
//
// Like hiredis's reader, it keeps its place inside an aggregate (a stack of the aggregates
// being filled, as hiredis's array of redisReadTask), so items already read are never read
// again; and it remembers how many bytes an unfinished bulk still needs, so the pieces of
// a large reply wait, uncopied, until they can finish it, and are then joined once.
// Reading is linear in the bytes received, however they are split.
import { ProtocolError } from './resp-request.ts';
import {
  NULL_ARRAY, NULL_BULK, array, boolean, bulk, error, integer, latin1Slice, map, push, set, simple, verbatim,
  type RespValue,
} from './resp.ts';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

/** An aggregate whose items are still arriving. */
interface OpenAggregate {
  /** Its type byte: '*', '~', '>' or '%'. */
  type: string;
  /** Items still to read (a map's entries count twice: key and value). */
  left: number;
  items: RespValue[];
}

/** What the element at `pos` waits for: a line, which an LF ends... */
const LINE = -1;
/** ... and what reading an aggregate's header gives: its items come next. */
const OPENED = Symbol('an aggregate opened');

/**
 * Incremental parser for any RESP2 or RESP3 value, as a client reads replies. Used by
 * tests, by a replica reading its master, and by the capstone's load generator.
 * next() returns the next complete value, or undefined until more bytes arrive; it
 * throws ProtocolError on bytes that are not RESP (and again on every later call).
 */
export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Chunks fed while the element at pos was unfinished, waiting until they can finish it. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** pending[0, searched) hold no LF: each chunk is searched for a line's end once. */
  private searched = 0;
  /** The element at pos ran out of bytes: only pending chunks can finish it. */
  private stalled = false;
  /** LINE, or how many bytes from pos the element at pos needs. */
  private needed = LINE;

  /** A bulk ('$', '=' or '!') whose header is read: `bulkLength` bytes and CRLF from pos. */
  private bulkType = '';
  private bulkLength = -1;
  /** The aggregates being filled, the innermost last. */
  private readonly open: OpenAggregate[] = [];

  /** Stream offsets: of buf[0], and of the end of the last value next() returned. */
  private base = 0;
  private returnedUpTo = 0;
  private failure: { error: unknown } | null = null;

  feed(chunk: Buffer): void {
    if (this.pos >= this.buf.length && this.pending.length === 0) {
      // Nothing unread: the chunk itself becomes the buffer, with no copy.
      this.base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
      this.stalled = false;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** Bytes fed but not yet returned as part of a value. */
  get bufferedBytes(): number {
    return this.base + this.buf.length + this.pendingBytes - this.returnedUpTo;
  }

  next(): RespValue | undefined {
    if (this.failure !== null) throw this.failure.error;
    try {
      for (;;) {
        if (this.stalled) {
          if (!this.pullPending()) return undefined;
          this.stalled = false;
        }
        const element = this.element();
        if (element === undefined) {
          this.stalled = true;
        } else if (element !== OPENED) {
          const value = this.nest(element);
          if (value !== undefined) {
            this.returnedUpTo = this.base + this.pos;
            return value;
          }
        }
      }
    } catch (e) {
      this.failure = { error: e };
      throw e;
    }
  }

  /**
   * Reads the element at pos: a whole value, OPENED after an aggregate's header, or
   * undefined when its bytes are not all in yet (pos then stays at its start, or, for a
   * bulk, at its payload).
   */
  private element(): RespValue | typeof OPENED | undefined {
    if (this.bulkLength >= 0) return this.payload();
    const at = this.pos;
    const eol = this.buf.indexOf(LF, at);
    if (eol === -1) {
      this.needed = LINE;
      return undefined;
    }
    const type = String.fromCharCode(this.buf[at]!);
    const text = latin1Slice(this.buf, at + 1, eol > at && this.buf[eol - 1] === CR ? eol - 1 : eol);
    const value = this.lineValue(type, text);
    this.pos = eol + 1;
    if (value !== undefined) return value;
    if (this.bulkLength >= 0) return this.payload();
    return OPENED;
  }

  /**
   * The value a line stands for on its own; undefined after a bulk's header (bulkLength is
   * then set) or an aggregate's header (it is then open).
   */
  private lineValue(type: string, text: string): RespValue | undefined {
    switch (type) {
      case '+':
        return simple(text);
      case '-':
        return error(text);
      case ':':
        return integer(parseInteger(text));
      case '_':
        return NULL_BULK;
      case ',':
        // The digits stay as sent: Redis 7.0 writes %.17g ("0.10000000000000001"), and a
        // client that prints doubles (redis-cli) shows them as they came.
        return { type: 'double', value: parseDouble(text), text };
      case '#':
        return boolean(text === 't');
      case '(':
        return integer(BigInt(text));
      case '$':
      case '=':
      case '!': {
        const length = Number(text);
        if (length === -1) return NULL_BULK;
        if (!Number.isInteger(length) || length < 0) throw new ProtocolError(`invalid bulk length '${text}'`);
        this.bulkType = type;
        this.bulkLength = length;
        return undefined;
      }
      case '*':
      case '~':
      case '>':
      case '%': {
        const count = Number(text);
        if (count === -1) return NULL_ARRAY;
        if (!Number.isInteger(count) || count < 0) throw new ProtocolError(`invalid aggregate length '${text}'`);
        if (count === 0) return aggregate(type, []);
        this.open.push({ type, left: type === '%' ? count * 2 : count, items: [] });
        return undefined;
      }
      default:
        throw new ProtocolError(`unexpected reply type '${type}'`);
    }
  }

  /** The payload of the bulk whose header was read, once it and its CRLF are all in. */
  private payload(): RespValue | undefined {
    const end = this.pos + this.bulkLength;
    if (end + 2 > this.buf.length) {
      this.needed = this.bulkLength + 2;
      return undefined;
    }
    const payload = latin1Slice(this.buf, this.pos, end);
    this.pos = end + 2;
    this.bulkLength = -1;
    if (this.bulkType === '=') return verbatim(payload.slice(4), payload.slice(0, 3));
    if (this.bulkType === '!') return error(payload);
    return bulk(payload);
  }

  /** Puts a value into the aggregate being filled; returns the outermost value once whole. */
  private nest(value: RespValue): RespValue | undefined {
    let complete = value;
    for (;;) {
      const parent = this.open[this.open.length - 1];
      if (parent === undefined) return complete;
      parent.items.push(complete);
      if (--parent.left > 0) return undefined;
      this.open.pop();
      complete = aggregate(parent.type, parent.items);
    }
  }

  /**
   * Brings pending chunks into view once they can finish the element at pos: for a bulk,
   * when they hold every byte it still needs; for a line, when one of them holds its LF.
   * Then the unread tail and those chunks are joined, once: a 32 MB bulk arriving in
   * 64 KiB reads is copied once, not once per read.
   */
  private pullPending(): boolean {
    if (this.pending.length === 0) return false;
    const tail = this.buf.length - this.pos;
    let take = 0; // how many pending chunks finish the element
    if (this.needed === LINE) {
      while (this.searched < this.pending.length && this.pending[this.searched]!.indexOf(LF) === -1) this.searched++;
      if (this.searched === this.pending.length) return false;
      take = this.searched + 1;
    } else {
      if (tail + this.pendingBytes < this.needed) return false;
      for (let size = tail; size < this.needed || take === 0; take++) size += this.pending[take]!.length;
    }
    const pieces = this.pending.splice(0, take);
    let size = 0;
    for (const piece of pieces) size += piece.length;
    this.pendingBytes -= size;
    this.searched = 0;
    this.base += this.pos;
    this.buf = tail === 0 && take === 1 ? pieces[0]! : Buffer.concat([this.buf.subarray(this.pos), ...pieces], tail + size);
    this.pos = 0;
    return true;
  }
}

function aggregate(type: string, items: RespValue[]): RespValue {
  if (type === '*') return array(items);
  if (type === '~') return set(items);
  if (type === '>') return push(items);
  const entries: Array<[RespValue, RespValue]> = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  return map(entries);
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
