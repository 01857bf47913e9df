// 02: RESP, the REdis Serialization Protocol: the parser that turns a client's bytes into
// requests, and the encoder that turns replies into bytes, in RESP2 or RESP3. Written the
// way the protocol reads, with one speed trick only, which keeps a large argument from
// costing quadratic time: chunks wait unjoined until they can finish what the parser
// reads (RequestParser says how). lib/resp-request.ts and lib/resp-reply.ts, which steps
// 03 on import, are the tuned twins that answer every request the same and write the same
// bytes (parsers.test.ts holds them to it); each trick they add is marked "Speed:".
//
// Strings are "latin1" strings: one JavaScript char per byte, so any bytes round-trip
// unchanged and nothing is decoded as UTF-8. Spec:
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
  | { type: 'double'; value: number } // RESP2: bulk string
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

// ---------------------------------------------------------------------------------------
// Requests
//
//   request    = multibulk | inline
//   multibulk  = "*" count CRLF { "$" length CRLF bytes CRLF }     (count arguments)
//   inline     = words [CR] LF                                      (anything not "*")
//
// A count of 0 or less, and a blank inline line, are empty requests: skipped, no reply.

/** Redis's limits on what a client may send (networking.c, config.c). */
export const LIMITS = {
  maxInlineBytes: 64 * 1024, // PROTO_INLINE_MAX_SIZE: an inline command, a '*' or '$' line
  maxBulkBytes: 512 * 1024 * 1024, // proto-max-bulk-len: the largest argument
  maxMultibulkLength: 2 ** 31 - 1, // INT_MAX: the most arguments a request may announce
  maxQueryBytes: 1024 * 1024 * 1024, // client-query-buffer-limit: the most one request may carry
};

/** A malformed request. The server replies "-ERR Protocol error: <reason>" and closes. */
export class ProtocolError extends Error {
  constructor(reason: string) {
    super(`Protocol error: ${reason}`);
  }
}

/** A request larger than client-query-buffer-limit: Redis closes the connection, no reply. */
export class QueryBufferLimitError extends Error {}

const CR = 0x0d;
const LF = 0x0a;
const ASTERISK = 0x2a;
const DOLLAR = 0x24;

/** A multibulk request half read. Redis keeps the same per client: argv, multibulklen, bulklen. */
interface Multibulk {
  args: string[]; // the arguments read so far
  argsLeft: number; // how many are still to come
  bulkLength: number | null; // the next argument's length, once its '$' line is read
  bytes: number; // bytes of this request read so far, for the query buffer limit
}

/** A '*' or '$' line: its first byte, the text from there to the CR, and its whole length. */
type HeaderLine = { type: number; number: Buffer; bytes: number };

/**
 * The incremental request parser: feed() it bytes as they arrive, split anywhere, then
 * call next() until it returns null.
 *
 * How it stays linear: `buffer` holds the bytes not parsed yet, and new chunks wait in
 * `arrived` until there are enough of them for the parser to make progress (`wanted`):
 * the rest of a bulk argument, or one more byte for a line not ended yet. A 100 MB argument
 * arriving in 1,600 reads of 64 KB is then joined once, when its last byte is here, and
 * not copied again on every read (which would copy about 80 GB in all). Arguments already
 * read are kept in `multibulk`, so a request is never parsed twice either.
 */
export class RequestParser {
  private buffer: Buffer = Buffer.alloc(0);
  private arrived: Buffer[] = [];
  private arrivedBytes = 0;
  private wanted = 1;
  private multibulk: Multibulk | null = null;

  feed(chunk: Buffer): void {
    this.arrived.push(chunk);
    this.arrivedBytes += chunk.length;
  }

  /** The next complete request, or null until more bytes arrive. Throws ProtocolError or QueryBufferLimitError. */
  next(): string[] | null {
    while (this.gatherWanted()) {
      const request = this.multibulk !== null ? this.readArguments(this.multibulk) : this.readRequest();
      if (request === null) return null;
      if (request.length > 0) return request;
      // An empty request: skip it, as Redis does, and look at what follows.
    }
    return null;
  }

  /** Joins the chunks that arrived onto `buffer`, if together they hold what is wanted. */
  private gatherWanted(): boolean {
    if (this.buffer.length + this.arrivedBytes < this.wanted) return false;
    if (this.buffer.length === 0 && this.arrived.length === 1) {
      this.buffer = this.arrived[0]!; // the usual case: a chunk of whole requests, no copy
    } else if (this.arrived.length > 0) {
      this.buffer = Buffer.concat([this.buffer, ...this.arrived]);
    }
    this.arrived = [];
    this.arrivedBytes = 0;
    this.wanted = 1;
    return true;
  }

  private readRequest(): string[] | null {
    return this.buffer[0] === ASTERISK ? this.readMultibulkHeader() : this.readInline();
  }

  /** "*3\r\n": how many arguments follow. */
  private readMultibulkHeader(): string[] | null {
    const line = this.readHeaderLine('too big mbulk count string');
    if (line === null) return null;
    const count = parseLength(line.number);
    if (count === null || count > LIMITS.maxMultibulkLength) throw new ProtocolError('invalid multibulk length');
    if (count <= 0) return [];
    this.multibulk = { args: [], argsLeft: count, bulkLength: null, bytes: 0 };
    this.countBytes(this.multibulk, line.bytes);
    return this.readArguments(this.multibulk);
  }

  /** "$5\r\nhello\r\n", for each argument still to come. Returns the request once complete. */
  private readArguments(request: Multibulk): string[] | null {
    while (request.argsLeft > 0) {
      if (request.bulkLength === null) {
        const line = this.readHeaderLine('too big bulk count string');
        if (line === null) return null;
        // Like Redis, judge the '$' only once the whole line is in.
        if (line.type !== DOLLAR) throw new ProtocolError(`expected '$', got '${String.fromCharCode(line.type)}'`);
        const length = parseLength(line.number);
        if (length === null || length < 0 || length > LIMITS.maxBulkBytes) throw new ProtocolError('invalid bulk length');
        request.bulkLength = length;
        this.countBytes(request, line.bytes);
      }
      const argument = this.readBulk(request.bulkLength);
      if (argument === null) return null;
      request.args.push(argument);
      request.argsLeft--;
      this.countBytes(request, request.bulkLength + 2);
      request.bulkLength = null;
    }
    this.multibulk = null;
    return request.args;
  }

  /**
   * A '*' or '$' line. Redis ends it at the first CR and skips the byte after it unread
   * (it is meant to be LF), so the line is complete only once that byte is here too.
   */
  private readHeaderLine(tooLong: string): HeaderLine | null {
    const cr = this.buffer.indexOf(CR);
    if (cr === -1 || cr + 1 >= this.buffer.length) return this.waitForLine(tooLong);
    const line = { type: this.buffer[0]!, number: this.buffer.subarray(1, cr), bytes: cr + 2 };
    this.buffer = this.buffer.subarray(line.bytes); // a view: nothing is copied
    return line;
  }

  /** An argument's bytes, then two more that Redis skips unread (they are meant to be CRLF). */
  private readBulk(length: number): string | null {
    if (this.buffer.length < length + 2) {
      this.wanted = length + 2;
      return null;
    }
    const argument = this.buffer.toString('latin1', 0, length);
    this.buffer = this.buffer.subarray(length + 2);
    return argument;
  }

  /**
   * A line of words, up to LF. A CR before the LF (telnet and redis-cli send "\r\n") is a
   * blank like any other to the splitter, so nc's bare "\n" works just as well.
   */
  private readInline(): string[] | null {
    const lf = this.buffer.indexOf(LF);
    if (lf === -1) return this.waitForLine('too big inline request');
    const line = this.buffer.toString('latin1', 0, lf);
    this.buffer = this.buffer.subarray(lf + 1);
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('unbalanced quotes in request');
    return args;
  }

  /** A line not ended yet: wait for one more byte, unless it is already over the limit. */
  private waitForLine(tooLong: string): null {
    if (this.buffer.length > LIMITS.maxInlineBytes) throw new ProtocolError(tooLong);
    this.wanted = this.buffer.length + 1;
    return null;
  }

  /** Counts what a request has carried so far against client-query-buffer-limit. */
  private countBytes(request: Multibulk, bytes: number): void {
    request.bytes += bytes;
    if (request.bytes > LIMITS.maxQueryBytes) throw new QueryBufferLimitError('query buffer limit reached');
  }
}

/**
 * The number on a '*' or '$' line, as strictly as Redis's string2ll reads it: an optional
 * '-' and digits, no leading zeros ("0" is fine; "-0", "007", "+1" are not); else null. At
 * most 18 digits, more than any valid length (Redis reads 19, so it skips a 19-digit
 * negative count as empty, where this refuses it).
 */
function parseLength(digits: Buffer): number | null {
  const text = digits.toString('latin1');
  return /^(0|-?[1-9][0-9]{0,17})$/.test(text) ? Number(text) : null;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
/** C's isspace(): what is skipped between words. */
const isBlank = (c: string | undefined): boolean => c !== undefined && ' \t\n\r\v\f'.includes(c);
/** What ends an unquoted word: fewer than isspace(), so "a\vb" is one word. */
const endsWord = (c: string | undefined): boolean => c === undefined || ' \t\n\r'.includes(c);
/** What may follow a closing quote. */
const endsQuote = (c: string | undefined): boolean => c === undefined || isBlank(c);

/** The backslash escape at line[at], inside double quotes: what it stands for, and its length. */
function escapeAt(line: string, at: number): [text: string, length: number] {
  const hex = line.slice(at + 2, at + 4);
  if (line[at + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) return [String.fromCharCode(parseInt(hex, 16)), 4];
  return [ESCAPES[line[at + 1]!] ?? line[at + 1]!, 2];
}

/**
 * Splits an inline command into words as Redis's sdssplitargs does (redis-cli splits what
 * you type the same way):
 * - words are separated by blanks;
 * - "double quotes" keep blanks and understand \n \r \t \b \a, \xHH (one byte, in hex),
 *   and a backslash before any other character (that character);
 * - 'single quotes' keep everything as written, except \' (a quote);
 * - a quote may open inside a word (a"b c" is "ab c"), but a closing quote must be followed
 *   by a blank or the end of the line.
 * Returns null for unbalanced quotes: one never closed, or closed before a non-blank.
 */
export function splitInlineArgs(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (isBlank(line[i])) i++;
    if (i >= line.length) return words;
    let word = '';
    let quote: '"' | "'" | null = null;
    for (; ; i++) {
      const c = line[i];
      if (quote === null) {
        if (endsWord(c)) break;
        if (c === '"' || c === "'") quote = c;
        else word += c;
      } else if (c === undefined) {
        return null; // the line ended inside quotes
      } else if (quote === '"' && c === '\\' && i + 1 < line.length) {
        const [text, length] = escapeAt(line, i);
        word += text;
        i += length - 1;
      } else if (quote === "'" && c === '\\' && line[i + 1] === "'") {
        i++;
        word += "'";
      } else if (c === quote) {
        if (!endsQuote(line[i + 1])) return null;
        i++;
        break;
      } else {
        word += c;
      }
    }
    words.push(word);
  }
}

// ---------------------------------------------------------------------------------------
// Replies

/** Redis's spelling of a double: integers without ".0", "inf", "-inf", "nan". */
export function formatDouble(d: number): string {
  return Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d);
}

/** One reply's bytes, in the connection's protocol version. */
export function encode(value: RespValue, protocol: ProtocolVersion = 2): Buffer {
  return Buffer.from(serialize(value, protocol), 'latin1');
}

/** A reply as a latin1 string of its bytes. In RESP2, RESP3-only types take a RESP2 shape. */
function serialize(value: RespValue, protocol: ProtocolVersion): string {
  const resp3 = protocol === 3;
  const aggregate = (prefix: string, count: number, items: RespValue[]) =>
    `${prefix}${count}\r\n${items.map((item) => serialize(item, protocol)).join('')}`;
  switch (value.type) {
    case 'simple': return `+${value.value}\r\n`;
    case 'error': return `-${value.message}\r\n`;
    case 'integer': return `:${value.value}\r\n`;
    case 'bulk':
      if (value.value === null) return resp3 ? '_\r\n' : '$-1\r\n';
      return bulkString(value.value);
    case 'array':
      if (value.items === null) return resp3 ? '_\r\n' : '*-1\r\n';
      return aggregate('*', value.items.length, value.items);
    case 'map':
      if (resp3) return aggregate('%', value.entries.length, value.entries.flat());
      return aggregate('*', value.entries.length * 2, value.entries.flat());
    case 'set': return aggregate(resp3 ? '~' : '*', value.items.length, value.items);
    case 'push': return aggregate(resp3 ? '>' : '*', value.items.length, value.items);
    case 'double': return resp3 ? `,${formatDouble(value.value)}\r\n` : bulkString(formatDouble(value.value));
    case 'boolean': return resp3 ? `#${value.value ? 't' : 'f'}\r\n` : `:${value.value ? 1 : 0}\r\n`;
    case 'verbatim': return resp3 ? bulkString(`${value.format}:${value.text}`, '=') : bulkString(value.text);
  }
}

const bulkString = (text: string, prefix = '$'): string => `${prefix}${text.length}\r\n${text}\r\n`;

/**
 * The replies to one read, kept until the server sends them all in one socket write.
 * `protocol` is the connection's RESP version (HELLO changes it).
 */
export class ReplyWriter {
  private replies: Buffer[] = [];

  constructor(public protocol: ProtocolVersion = 2) {}

  write(value: RespValue): void {
    this.replies.push(encode(value, this.protocol));
  }

  error(message: string): void {
    this.write(error(message));
  }

  /** Every reply written since the last take(), as one Buffer; null if there are none. */
  take(): Buffer | null {
    if (this.replies.length === 0) return null;
    const bytes = Buffer.concat(this.replies);
    this.replies = [];
    return bytes;
  }
}
