// RESP, the REdis Serialization Protocol: what a value is. RespValue models every type a
// RESP2 or RESP3 message can carry, and the constructors below build them; the command
// families of every step speak in these values, and only the connection turns them into
// bytes.
//
// The protocol's code is split by role, as Redis's own is:
//
//   resp.ts               the values (this file), and the latin1 conversions the parts
//                         below share
//   resp-request.ts       reading requests, the server's side: RequestParser, inline
//                         commands, Redis's limits and protocol errors (networking.c's
//                         processMultibulkBuffer and processInlineBuffer)
//   resp-reply.ts         writing replies, RESP2 or RESP3: ReplyWriter, encode,
//                         encodeCommand (networking.c's addReply* family)
//   resp-reply-parser.ts  reading replies, the client's side: ReplyParser, for tests, a
//                         replica reading its master, the capstone's load generator
//                         (what hiredis's read.c does for redis-cli)
//
// This is the tuned version, which steps 03 on import. Step 02 teaches the same protocol
// with a plain parser and encoder (02-resp-parser/resp.ts), and a property test
// (02-resp-parser/parsers.test.ts) holds the two to the same requests, errors and reply
// bytes. What differs is speed: every trick is marked "Speed:" and says why it pays, for
// step 10 to take apart. None changes what a client sees.
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
// Strings as bytes, for the parsers and the encoder

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
export const latin1Slice = (buf: Buffer, start: number, end: number): string => (buf as Latin1Buffer).latin1Slice(start, end);
export const latin1Write = (buf: Buffer, text: string, offset: number): number => (buf as Latin1Buffer).latin1Write(text, offset);
