// Reading requests: the server's side of RESP. RequestParser turns the bytes a client sends
// into argument lists, as Redis's processMultibulkBuffer and processInlineBuffer do in
// networking.c: arrays of bulk strings (what client libraries send, `*2\r\n$3\r\nGET...`)
// and inline commands (what a person types into nc, `GET k`), pipelined and split across
// reads at any byte, refused with Redis's own protocol errors past Redis's limits.
// splitInlineArgs is Redis's sdssplitargs (sds.c).
//
// Step 02 teaches the same grammar with a plain parser (02-resp-parser/resp.ts); this one
// gives the same answers, faster, and each trick is marked "Speed:" (see resp.ts).
import { latin1Slice } from './resp.ts';

/** Redis's limits for what a client may send (networking.c). */
export const LIMITS = {
  /** An inline command, or a '*'/'$' header line, longer than this is refused. */
  maxInlineBytes: 64 * 1024,
  /** proto-max-bulk-len: the largest single argument. */
  maxBulkBytes: 512 * 1024 * 1024,
  /** A multibulk header above INT_MAX is refused. */
  maxMultibulkLength: 2 ** 31 - 1,
  /** client-query-buffer-limit: one command may not carry more than this. */
  maxQueryBytes: 1024 * 1024 * 1024,
};

/** A malformed request. The server replies "-ERR Protocol error: <reason>" and closes. */
export class ProtocolError extends Error {
  constructor(reason: string) {
    super(`Protocol error: ${reason}`);
  }
}

/** A client sent more than client-query-buffer-limit: Redis closes it without a reply. */
export class QueryBufferLimitError extends Error {}

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

/**
 * An argument as a latin1 string. Speed: command names and small values are a few bytes
 * long, and for those String.fromCharCode with fixed arguments, which V8's optimizing
 * compiler turns into inline code (a one-char string even comes from its table of
 * single-character strings, with no allocation), costs about half of a call into native
 * code. The unrolled cases are what lets the compiler see a fixed number of arguments;
 * longer arguments go to latin1Slice.
 */
function argumentString(buf: Buffer, start: number, end: number): string {
  switch (end - start) {
    case 1:
      return String.fromCharCode(buf[start]!);
    case 2:
      return String.fromCharCode(buf[start]!, buf[start + 1]!);
    case 3:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!);
    case 4:
      return String.fromCharCode(buf[start]!, buf[start + 1]!, buf[start + 2]!, buf[start + 3]!);
    default:
      return latin1Slice(buf, start, end);
  }
}

/** What a parser that cannot make progress yet waits for: the rest of a '*' or '$' line. */
const NEED_LINE = -1;
/** ... or the rest of an inline line, which only an LF ends. */
const NEED_INLINE = -2;

/**
 * Incremental request parser. Feed it bytes as they arrive (split anywhere), then call
 * next() until it returns null. A request is an array of bulk strings
 * (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline command typed by a person (`GET k\n`).
 *
 * A half-read multibulk keeps its progress (arguments read so far), so a large command
 * arriving in many chunks is parsed in linear time.
 *
 * Speed: bytes are read where they lie. `buf` is the chunk the socket delivered and `pos`
 * the first unread byte, so a read of whole requests is parsed with no copy at all (step
 * 02's parser slices a new view per element and joins a new chunk onto any unread tail).
 * Chunks that arrive while an element is unfinished wait in `pending`, and only the bytes
 * that finish that element are ever copied (see pullPending).
 */
export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private fedBytes = 0;

  // State of a multibulk request in progress.
  private argsLeft = 0; // arguments still to read; 0 when between requests
  private args: string[] = [];
  private bulkLength = -1; // length of the bulk being read, -1 before its '$' header
  private requestBytes = 0;

  feed(chunk: Buffer): void {
    this.fedBytes += chunk.length;
    // Speed: with nothing left over, the chunk itself becomes the buffer: no copy.
    if (this.pos >= this.buf.length && this.pending.length === 0 && this.resume === null) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** Bytes fed but not yet consumed by a complete request. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.pendingBytes + (this.resume?.length ?? 0);
  }

  /**
   * Where the last request next() returned ends in the stream, in bytes from the first byte
   * fed (empty requests before it included). A replica counts its master's stream this way:
   * its offset is the bytes it applied. Read right after next() returned a request; while a
   * request is half-read it also counts the arguments read so far. Computed from two
   * counters, so parsing pays nothing for it.
   */
  get consumed(): number {
    return this.fedBytes - this.bufferedBytes;
  }

  /** The next complete request, or null until more bytes arrive. Throws ProtocolError. */
  next(): string[] | null {
    for (;;) {
      const request = this.argsLeft > 0 ? this.continueMultibulk() : this.startRequest();
      if (request === undefined) continue; // an empty request: skip it, as Redis does
      if (request !== null) return request;
      if (!this.pullPending()) return null;
    }
  }

  /** Returns a request, null when more bytes are needed, undefined for an empty request. */
  private startRequest(): string[] | null | undefined {
    if (this.pos >= this.buf.length) return null;
    return this.buf[this.pos] === 42 /* '*' */ ? this.startMultibulk() : this.inline();
  }

  private startMultibulk(): string[] | null | undefined {
    const eol = findLineEnd(this.buf, this.pos);
    if (eol === -1) {
      if (this.lineTooLong(this.pos)) throw new ProtocolError('too big mbulk count string');
      this.needed = NEED_LINE;
      return null;
    }
    const count = parseLength(this.buf, this.pos + 1, eol);
    if (count === null || count > LIMITS.maxMultibulkLength) throw new ProtocolError('invalid multibulk length');
    this.requestBytes = eol + 2 - this.pos;
    this.pos = eol + 2;
    if (count <= 0) return undefined;
    this.argsLeft = count;
    this.args = [];
    this.bulkLength = -1;
    return this.continueMultibulk();
  }

  private continueMultibulk(): string[] | null {
    // Speed: the hottest loop of the server. Its state lives in locals while it runs and is
    // stored back once, when the request is complete or the bytes run out. V8 can keep
    // locals in registers; a field (this.pos) is a load from the object on every read and
    // a store on every write, because any call in between (a push, a native slice) might
    // have changed it, so the compiler cannot keep it in a register across one.
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let left = this.argsLeft;
    let length = this.bulkLength;
    let waitingFor = 0;
    while (left > 0) {
      if (length < 0) {
        const eol = pos < buf.length ? findLineEnd(buf, pos) : -1;
        if (eol === -1) {
          if (this.lineTooLong(pos)) throw new ProtocolError('too big bulk count string');
          waitingFor = NEED_LINE;
          break;
        }
        // Like Redis, look at the '$' only once the whole header line is in.
        if (buf[pos] !== 36 /* '$' */) throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[pos]!)}'`);
        const parsed = parseLength(buf, pos + 1, eol);
        if (parsed === null || parsed < 0 || parsed > LIMITS.maxBulkBytes) throw new ProtocolError('invalid bulk length');
        length = parsed;
        pos = eol + 2;
      }
      const end = pos + length;
      if (end + 2 > buf.length) {
        waitingFor = length + 2;
        break;
      }
      // Like Redis, trust the length and skip the two bytes after the payload unread.
      // Speed: the argument is decoded straight from the socket's chunk: one copy, into the
      // string, however the request was framed.
      this.args.push(argumentString(buf, pos, end));
      pos = end + 2;
      length = -1;
      left--;
    }
    this.pos = pos;
    this.argsLeft = left;
    this.bulkLength = length;
    this.countRequestBytes(pos - start);
    if (left > 0) return this.waitFor(waitingFor);
    const request = this.args;
    this.args = [];
    return request;
  }

  private countRequestBytes(n: number): void {
    this.requestBytes += n;
    if (this.requestBytes > LIMITS.maxQueryBytes) throw new QueryBufferLimitError('query buffer limit reached');
  }

  private inline(): string[] | null | undefined {
    const eol = this.buf.indexOf(LF, this.pos);
    if (eol === -1) {
      if (this.lineTooLong(this.pos)) throw new ProtocolError('too big inline request');
      return this.waitFor(NEED_INLINE);
    }
    let end = eol;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = latin1Slice(this.buf, this.pos, end);
    this.pos = eol + 1;
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('unbalanced quotes in request');
    return args.length === 0 ? undefined : args;
  }

  /** How many bytes from pos the parser needs next, or NEED_LINE / NEED_INLINE for a line. */
  private needed = NEED_LINE;

  /** No end in more bytes than Redis allows on one line (inline request, or a count line starting at `lineStart`). */
  private lineTooLong(lineStart: number): boolean {
    // While chunks are pending the newline may be in one of them: pullPending() joins them
    // and the search runs again, so judge only once every byte fed is in view.
    return this.pendingBytes === 0 && this.resume === null && this.buf.length - lineStart > LIMITS.maxInlineBytes;
  }

  private waitFor(bytes: number): null {
    this.needed = bytes;
    return null;
  }

  /**
   * The unread rest of a chunk whose first bytes were joined onto an unfinished element
   * (see pullPending); parsing carries on there once the joined bytes are used up.
   */
  private resume: Buffer | null = null;

  /**
   * Brings the next bytes into view when the current buffer is used up or ends mid-element.
   * With no unfinished element, the next chunk is parsed where it lies. Otherwise queued
   * chunks are joined only once they can complete what the parser waits for (a 100 MB bulk
   * arriving in 64 KB reads is copied once, not once per read), and when one chunk
   * completes it, only the element that straddles the boundary is copied, not the chunk.
   *
   * Speed: with pipelining, almost every read ends in the middle of a request. Joining the
   * unread tail and the whole next chunk (as step 02 does) copies every byte of the stream
   * once more; copying only the tail plus the few bytes that finish its element (often a
   * header line, or the end of a small argument) and parsing the rest of the chunk in place
   * (`resume`) keeps the common case almost copy-free.
   */
  private pullPending(): boolean {
    if (this.resume !== null) {
      this.pending.unshift(this.resume);
      this.pendingBytes += this.resume.length;
      this.resume = null;
    }
    if (this.pending.length === 0) return false;
    const tail = this.buf.subarray(this.pos);
    const first = this.pending[0]!;
    if (tail.length === 0) {
      this.buf = first;
      this.pending.shift();
      this.pendingBytes -= first.length;
    } else {
      const available = tail.length + this.pendingBytes;
      if (this.needed >= 0 && available < this.needed) return false;
      // What finishes the element: exactly the rest of a bulk, or the rest of a line.
      const take =
        this.needed === NEED_LINE ? restOfLine(first) : this.needed === NEED_INLINE ? restOfInline(first) : this.needed - tail.length;
      if (this.pending.length === 1 && take < first.length) {
        this.buf = Buffer.concat([tail, first.subarray(0, take)]);
        this.resume = first.subarray(take);
      } else {
        this.buf = Buffer.concat([tail, ...this.pending], available);
      }
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.pos = 0;
    return true;
  }
}

/**
 * How many bytes of `chunk` finish a line that began before it: up to its first CR or LF,
 * plus the byte after (a header line ends at CR and skips one more byte). Infinity when the
 * line does not end in this chunk. It may stop short (at an LF before a header's CR, or at
 * a CR inside an inline line); the parser then just asks for more, and pullPending joins
 * again.
 */
function restOfLine(chunk: Buffer): number {
  const ends = [chunk.indexOf(CR), chunk.indexOf(LF)].filter((i) => i >= 0);
  return ends.length === 0 ? Infinity : Math.min(...ends) + 2;
}

/**
 * How many bytes of `chunk` finish an inline line that began before it: up to and with its
 * first LF. A CR is an ordinary byte inside an inline line, so stopping there would join
 * the same line again for every CR in it.
 */
function restOfInline(chunk: Buffer): number {
  const lf = chunk.indexOf(LF);
  return lf === -1 ? Infinity : lf + 1;
}

/**
 * The CR that ends a '*' or '$' header line, or -1 until it and one byte after it are in.
 * Redis ends these lines at the CR and skips the next byte unread (it is meant to be LF),
 * so "*1\n" is not a header.
 *
 * Speed: tuned for short lines. A header is a few bytes ("$3", "*12"), and for those a
 * plain loop, compiled to a handful of machine instructions, is cheaper than indexOf,
 * which crosses into native code and checks its arguments on every call. 24 bytes covers
 * any header that can be valid ("$", a sign, up to 18 digits, the CR); only longer junk
 * falls back to indexOf, so a 64 KiB line without a CR is still scanned at native speed.
 */
function findLineEnd(buf: Buffer, from: number): number {
  const stop = Math.min(buf.length, from + 24);
  let cr = -1;
  for (let i = from; i < stop; i++) {
    if (buf[i] === CR) {
      cr = i;
      break;
    }
  }
  if (cr === -1 && stop < buf.length) cr = buf.indexOf(CR, stop);
  return cr !== -1 && cr + 1 < buf.length ? cr : -1;
}

/**
 * Parses the decimal after a '*' or '$' up to the CR that ends the line. Returns null for
 * anything Redis's string2ll would refuse: no digits, a sign alone, leading zeros, other
 * characters, or a number too large. Speed: the digits are read from the buffer, with no
 * string made for them (step 02 decodes the line and matches a regular expression).
 */
function parseLength(buf: Buffer, start: number, end: number): number | null {
  let i = start;
  let negative = false;
  if (i < end && buf[i] === 45 /* '-' */) {
    negative = true;
    i++;
  }
  if (i >= end || end - i > 18) return null;
  // "0" is the only number that may start with a zero; "-0" and "007" are refused.
  if (buf[i] === 48 /* '0' */ && (end - i > 1 || negative)) return null;
  let n = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - 48;
    if (digit < 0 || digit > 9) return null;
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * Splits an inline command the way Redis's sdssplitargs does: words separated by spaces;
 * "double quotes" understand \n \r \t \b \a \xHH and \<any>; 'single quotes' understand
 * only \'. A closing quote must be followed by a space or the end. Returns null for
 * unbalanced quotes.
 */
export function splitInlineArgs(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (isSpace(line[i])) i++;
    if (i >= line.length) return args;
    let current = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && line[i + 1] !== undefined) {
          i++;
          current += ESCAPES[line[i]!] ?? line[i];
        } else if (c === '"') {
          if (line[i + 1] !== undefined && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else {
          current += c;
        }
      } else if (inSingle) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (line[i + 1] !== undefined && !isSpace(line[i + 1])) return null;
          i++;
          break;
        } else {
          current += c;
        }
      } else if (c === undefined || c === ' ' || c === '\n' || c === '\r' || c === '\t') {
        // Blanks between words are any isspace() byte, but only these four end a word:
        // "a\vb" is one argument, as in sdssplitargs.
        break;
      } else if (c === '"') {
        inDouble = true;
      } else if (c === "'") {
        inSingle = true;
      } else {
        current += c;
      }
      i++;
    }
    args.push(current);
  }
}
