// RESP, the REdis Serialization Protocol: the request parser a server needs, the reply
// encoder for RESP2 and RESP3, and a reply parser for the client side (tests, replicas,
// the capstone's load generator).
//
// This is the tuned version, which steps 03 on import. Step 02 teaches the same protocol
// with a plain parser and encoder (02-resp-parser/resp.ts), and a property test
// (02-resp-parser/parsers.test.ts) holds the two to the same requests, errors and reply
// bytes. What differs is speed: every trick here is marked "Speed:" and says why it pays,
// for step 10 to take apart. None changes what a client sees.
//
// Strings are binary-safe "latin1" strings: one JavaScript char per byte, so every byte
// sequence round-trips unchanged and no UTF-8 decoding ever happens. Spec:
// https://redis.io/docs/latest/develop/reference/protocol-spec/

// ---------------------------------------------------------------------------------------
// Values

/** A RESP value, shaped as Redis 7 sends it. RESP3-only types fall back to RESP2 shapes. */
export type RespValue =
  | { type: 'simple'; value: string }
  | { type: 'error'; message: string } // the whole line after '-', e.g. "ERR syntax error"
  | { type: 'integer'; value: number | bigint }
  | { type: 'bulk'; value: string | null } // null: RESP2 "$-1", RESP3 "_"
  | { type: 'array'; items: RespValue[] | null } // null: RESP2 "*-1", RESP3 "_"
  | { type: 'map'; entries: Array<[RespValue, RespValue]> } // RESP2: flat array k1 v1 k2 v2
  | { type: 'set'; items: RespValue[] } // RESP2: array
  | { type: 'double'; value: number; text?: string } // RESP2: bulk string. text: the digits as received (a parsed reply)
  | { type: 'boolean'; value: boolean } // RESP2: integer 1 or 0
  | { type: 'verbatim'; format: string; text: string } // RESP2: bulk string of text
  | { type: 'push'; items: RespValue[] }; // RESP2: array

export type ProtocolVersion = 2 | 3;

export const simple = (value: string): RespValue => ({ type: 'simple', value });
export const error = (message: string): RespValue => ({ type: 'error', message });
export const integer = (value: number | bigint): RespValue => ({ type: 'integer', value });
export const bulk = (value: string | null): RespValue => ({ type: 'bulk', value });
export const array = (items: RespValue[] | null): RespValue => ({ type: 'array', items });
export const map = (entries: Array<[RespValue, RespValue]>): RespValue => ({ type: 'map', entries });
export const set = (items: RespValue[]): RespValue => ({ type: 'set', items });
export const double = (value: number): RespValue => ({ type: 'double', value });
export const boolean = (value: boolean): RespValue => ({ type: 'boolean', value });
export const verbatim = (text: string, format = 'txt'): RespValue => ({ type: 'verbatim', format, text });
export const push = (items: RespValue[]): RespValue => ({ type: 'push', items });

export const OK = simple('OK');
export const NULL_BULK = bulk(null);
export const NULL_ARRAY = array(null);
export const bulks = (values: Array<string | null>): RespValue => array(values.map(bulk));

// ---------------------------------------------------------------------------------------
// Requests

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
 * Speed: Node's Buffer has latin1Slice/latin1Write, the native methods that
 * toString('latin1', start, end) and write(text, offset, 'latin1') end up calling. The
 * public methods first check and default their arguments and look the encoding's name up
 * (a string comparison) on every call; for a 3-byte key that bookkeeping costs more than
 * the copy. Calling the native methods directly skips it. They are undocumented, so
 * @types/node does not declare them. They sit on the hottest path (every argument, every
 * reply), so we use them.
 */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number): number;
}
const latin1Slice = (buf: Buffer, start: number, end: number): string => (buf as Latin1Buffer).latin1Slice(start, end);

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
const latin1Write = (buf: Buffer, text: string, offset: number): number => (buf as Latin1Buffer).latin1Write(text, offset);

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

  // State of a multibulk request in progress.
  private argsLeft = 0; // arguments still to read; 0 when between requests
  private args: string[] = [];
  private bulkLength = -1; // length of the bulk being read, -1 before its '$' header
  private requestBytes = 0;

  feed(chunk: Buffer): void {
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

// ---------------------------------------------------------------------------------------
// Replies

/**
 * Replies are encoded into chunks of this size. A connection allocates its first chunk when
 * it first replies, and a batch bigger than a chunk grows it by doubling.
 *
 * Speed: step 02 builds each reply as a string, turns it into a Buffer, and joins a
 * batch's Buffers when it is sent: several allocations and two copies per reply. Here a
 * reply's bytes are written once, straight into the chunk that goes to the socket, and
 * take() hands out a view of it: one write per batch, and no allocation per reply.
 */
const CHUNK_BYTES = 64 * 1024;
/**
 * A connection's first chunk is small, and taken from Node's shared allocation pool: a
 * server with 10,000 quiet connections (subscribers waiting for messages) must not hold
 * 64 KB for each. A connection that keeps filling its chunks gets bigger ones, up to
 * CHUNK_BYTES.
 */
const FIRST_CHUNK_BYTES = 2 * 1024;

/**
 * Encodes replies into one growing buffer, so a batch of pipelined replies leaves in one
 * socket write. take() hands out the bytes written so far; they are never written over
 * again, so the socket may keep them as long as it needs.
 */
export class ReplyWriter {
  private chunk: Buffer = EMPTY; // allocated by the first reply
  private start = 0; // first byte not yet taken
  private offset = 0; // next byte to write
  private nextChunkBytes = FIRST_CHUNK_BYTES;

  constructor(public protocol: ProtocolVersion = 2) {}

  get length(): number {
    return this.offset - this.start;
  }

  /** The encoded replies since the last take(), or null if there are none. */
  take(): Buffer | null {
    if (this.offset === this.start) return null;
    const out = this.chunk.subarray(this.start, this.offset);
    this.start = this.offset;
    // A nearly full chunk is let go (the socket may still be sending the bytes handed out);
    // the next reply starts a new one. So is one grown past CHUNK_BYTES for a huge batch: a
    // quiet connection must not keep it.
    if (this.chunk.length - this.offset < 1024 || this.chunk.length > CHUNK_BYTES) this.releaseChunk();
    return out;
  }

  write(value: RespValue): void {
    switch (value.type) {
      case 'simple':
        return this.line('+', value.value);
      case 'error':
        return this.line('-', value.message);
      case 'integer':
        return this.line(':', String(value.value));
      case 'bulk':
        return value.value === null ? this.nullReply('$-1\r\n') : this.bulkString(value.value);
      case 'array':
        if (value.items === null) return this.nullReply('*-1\r\n');
        return this.aggregate('*', value.items);
      case 'map':
        if (this.protocol === 2) {
          this.line('*', String(value.entries.length * 2));
        } else {
          this.line('%', String(value.entries.length));
        }
        for (const [k, v] of value.entries) {
          this.write(k);
          this.write(v);
        }
        return;
      case 'set':
        return this.aggregate(this.protocol === 2 ? '*' : '~', value.items);
      case 'push':
        return this.aggregate(this.protocol === 2 ? '*' : '>', value.items);
      case 'double':
        return this.protocol === 2 ? this.bulkString(formatDouble(value.value)) : this.line(',', formatDouble(value.value));
      case 'boolean':
        return this.protocol === 2 ? this.line(':', value.value ? '1' : '0') : this.line('#', value.value ? 't' : 'f');
      case 'verbatim':
        if (this.protocol === 2) return this.bulkString(value.text);
        return this.bulkString(`${value.format}:${value.text}`, '=');
    }
  }

  // Speed: shortcuts for the hottest replies, so GET and SET allocate no RespValue objects
  // just to have them taken apart again by write().

  ok(): void {
    this.raw('+OK\r\n');
  }

  bulkString(value: string, prefix = '$'): void {
    this.reserve(value.length + 24);
    const chunk = this.chunk;
    let at = this.offset;
    chunk[at++] = prefix.charCodeAt(0);
    at = writeDecimal(chunk, at, value.length);
    chunk[at++] = CR;
    chunk[at++] = LF;
    at = writeText(chunk, at, value);
    chunk[at++] = CR;
    chunk[at++] = LF;
    this.offset = at;
  }

  nullBulk(): void {
    this.nullReply('$-1\r\n');
  }

  integer(value: number | bigint): void {
    this.line(':', String(value));
  }

  error(message: string): void {
    this.line('-', message);
  }

  private nullReply(resp2: string): void {
    this.raw(this.protocol === 2 ? resp2 : '_\r\n');
  }

  private aggregate(prefix: string, items: RespValue[]): void {
    this.line(prefix, String(items.length));
    for (const item of items) this.write(item);
  }

  private line(prefix: string, text: string): void {
    this.reserve(text.length + 3);
    const chunk = this.chunk;
    let at = this.offset;
    chunk[at++] = prefix.charCodeAt(0);
    at = writeText(chunk, at, text);
    chunk[at++] = CR;
    chunk[at++] = LF;
    this.offset = at;
  }

  private raw(text: string): void {
    this.reserve(text.length);
    this.offset = writeText(this.chunk, this.offset, text);
  }

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.chunk.length) return;
    // Doubling keeps a huge pipelined batch linear: each byte is moved O(1) times on average.
    const untaken = this.offset - this.start;
    // A connection that filled a chunk gets a bigger one next time.
    if (this.chunk !== EMPTY) this.nextChunkBytes = Math.min(CHUNK_BYTES, 2 * this.nextChunkBytes);
    this.newChunk(Math.max(this.nextChunkBytes, 2 * untaken, untaken + bytes));
  }

  private releaseChunk(): void {
    this.chunk = EMPTY;
    this.start = 0;
    this.offset = 0;
  }

  /** Moves untaken bytes to a fresh chunk; taken ones stay with whoever holds them. */
  private newChunk(size: number): void {
    const next = Buffer.allocUnsafe(size);
    const untaken = this.chunk.copy(next, 0, this.start, this.offset);
    this.chunk = next;
    this.start = 0;
    this.offset = untaken;
  }
}

/** Writes a latin1 string at `at`, returning the offset after it. */
function writeText(chunk: Buffer, at: number, text: string): number {
  // Speed: short strings (most keys, headers, "+OK") are cheaper to copy in a loop than
  // through a native call, for the same reason as findLineEnd's loop; long ones go through
  // latin1Write, whose native copy wins once the call's fixed cost is spread out.
  if (text.length > 32) return at + latin1Write(chunk, text, at);
  for (let i = 0; i < text.length; i++) chunk[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Writes a non-negative integer in decimal at `at`, returning the offset after it. Speed:
 * most bulk lengths in a benchmark are one digit, written without making a string.
 */
function writeDecimal(chunk: Buffer, at: number, n: number): number {
  if (n < 10) {
    chunk[at] = 48 + n;
    return at + 1;
  }
  return writeText(chunk, at, String(n));
}

/** Redis's spelling of a double: integers without ".0", "inf", "-inf", "nan". */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  return String(d);
}

/**
 * One writer for encode(): its bytes are copied out, so it can be reused at once. Speed:
 * encode() and encodeCommand() run once per command in some paths (checking an AOF as it
 * loads, a client sending commands), and a writer per call would allocate a 64 KB chunk
 * each time.
 */
const scratchWriter = new ReplyWriter(2);

/** Encodes one value on its own, into a Buffer of its own. */
export function encode(value: RespValue, protocol: ProtocolVersion = 2): Buffer {
  scratchWriter.protocol = protocol;
  scratchWriter.write(value);
  return Buffer.from(scratchWriter.take() ?? EMPTY);
}

/** Encodes a command as a client sends it: an array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  return encode(bulks([...args]));
}

// ---------------------------------------------------------------------------------------
// Reading replies (the client side)

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

  /** The unread bytes (for a replica: what follows a reply, e.g. an RDB payload). */
  takeRemaining(): Buffer {
    const rest = this.buf.subarray(this.pos);
    this.buf = EMPTY;
    this.pos = 0;
    return rest;
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
        // The digits stay as sent: Redis 7.0 writes %.17g ("0.10000000000000001"), and a
        // client that prints doubles (redis-cli) shows them as they came.
        return { value: { type: 'double', value: parseDouble(text), text }, end: next };
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
