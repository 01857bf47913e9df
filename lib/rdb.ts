// RDB, Redis's snapshot format: what SAVE and BGSAVE write to dump.rdb, what a server
// loads at start, and what a master sends a replica for a full resync. This codec writes
// RDB version 10, as Redis 7.0 does, and reads versions 1 to 12 (every Redis up to 7.4).
// Only string values are supported; any other type stops a load with a clear message.
//
// A tiny file, byte by byte (one key "k" = "v" that expires; spaces added):
//
//   52 45 44 49 53 30 30 31 30           "REDIS0010": magic, then the version in 4 digits
//   fa 09 "redis-ver" 06 "7.0.15"        AUX field: a name and a value, both strings
//   fa 0a "redis-bits" c0 40             ... the value 64, stored as an 8-bit integer
//   fa 05 "ctime" c2 xx xx xx xx         ... Unix seconds, a 32-bit integer
//   fa 08 "used-mem" c2 xx xx xx xx
//   fa 08 "aof-base" c0 00
//   fe 00                                SELECTDB: the keys that follow are in database 0
//   fb 01 01                             RESIZEDB: 1 key, 1 with a deadline (a size hint)
//   fc xx xx xx xx xx xx xx xx           EXPIRETIME_MS: the next key's deadline, Unix ms,
//                                        a 64-bit little-endian integer
//   00 01 "k" 01 "v"                     value type 0 (string), the key, the value
//   ff                                   EOF
//   xx xx xx xx xx xx xx xx              CRC-64 of every byte before it, little-endian
//                                        (all zeros: not computed, rdbchecksum no)
//
// Lengths take 1 to 9 bytes; the top two bits of the first byte say which form:
//   00xxxxxx                  0..63
//   01xxxxxx xxxxxxxx         0..16383 (14 bits, big-endian)
//   10000000 + 4 bytes        32 bits, big-endian
//   10000001 + 8 bytes        64 bits, big-endian
//   11xxxxxx                  not a length: a string in a special encoding follows
//
// A string is a length and that many bytes, or one of the special encodings:
//   c0 x / c1 xx / c2 xxxx    an integer of 8/16/32 bits, little-endian ("123" is c0 7b);
//                             Redis writes a string this way when it reads back as the
//                             same decimal integer, so "0123", "-0" and "+1" stay strings
//   c3 <clen> <len> <data>    LZF-compressed (lib/lzf.ts): clen bytes that expand to len
//
// Keys and values are latin1 strings (one char per byte), as everywhere in this repo.
// Deadlines are absolute Unix milliseconds as bigint, as the keyspaces store them.
//
// Both directions stream. RdbEncoder hands out the file in slices of a few thousand keys,
// so a server can write a snapshot between event-loop turns, or send it to a replica
// under backpressure. RdbDecoder is fed bytes as they arrive and returns one event per
// key, so a replica can load a snapshot straight off its master's socket.
//
// Reference: rdb.h and rdb.c in Redis's source, and
// https://rdb.fnordig.de/file_format.html
import { Crc64 } from './crc64.ts';
import { LzfError, lzfCompress, lzfDecompress } from './lzf.ts';
import { parseInt64 } from './numbers.ts';

// ---------------------------------------------------------------------------------------
// The format's numbers (rdb.h)

/** The version this codec writes: Redis 7.0's. */
export const RDB_VERSION = 10;
/** The newest version it reads: Redis 7.4's. 11 and 12 changed nothing for strings. */
export const RDB_MAX_READ_VERSION = 12;
/** What the encoder writes as `redis-ver`: the Redis whose format it follows. */
export const RDB_REDIS_VERSION = '7.0.15';

const OPCODE = {
  SLOT_INFO: 0xf4, // cluster slot sizes, a hint (version 12)
  FUNCTION2: 0xf5, // a Redis Functions library
  FUNCTION_PRE_GA: 0xf6, // the same, as 7.0's release candidates wrote it
  MODULE_AUX: 0xf7, // data a module keeps outside the keyspace
  IDLE: 0xf8, // the next key's LRU idle time, a hint
  FREQ: 0xf9, // the next key's LFU counter, a hint
  AUX: 0xfa, // a name = value field about the file
  RESIZEDB: 0xfb, // how many keys and deadlines the database has, a hint
  EXPIRETIME_MS: 0xfc, // the next key's deadline in ms
  EXPIRETIME: 0xfd, // the next key's deadline in seconds (RDB before version 3)
  SELECTDB: 0xfe, // the database of the keys that follow
  EOF: 0xff,
} as const;

const TYPE_STRING = 0;

/** Value types by their byte, named as Redis's TYPE and OBJECT ENCODING would say. */
const VALUE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'string',
  1: 'list (linked list)',
  2: 'set (hashtable)',
  3: 'zset (skiplist, text scores)',
  4: 'hash (hashtable)',
  5: 'zset (skiplist)',
  6: 'module value (v1)',
  7: 'module value',
  9: 'hash (zipmap)',
  10: 'list (ziplist)',
  11: 'set (intset)',
  12: 'zset (ziplist)',
  13: 'hash (ziplist)',
  14: 'list (quicklist)',
  15: 'stream (listpacks)',
  16: 'hash (listpack)',
  17: 'zset (listpack)',
  18: 'list (quicklist v2)',
  19: 'stream (listpacks v2)',
  20: 'set (listpack)',
  21: 'stream (listpacks v3)',
  22: 'hash (hashtable, field expiries, 7.4 RC)',
  23: 'hash (listpack, field expiries, 7.4 RC)',
  24: 'hash (hashtable, field expiries)',
  25: 'hash (listpack, field expiries)',
};

// The first byte of a length: its top two bits say which form follows.
const LENGTH_14BIT = 0x40;
const LENGTH_32BIT = 0x80;
const LENGTH_64BIT = 0x81;
const SPECIAL_ENCODING = 0xc0;
const ENCODING = { INT8: 0, INT16: 1, INT32: 2, LZF: 3 } as const;

/** Redis only tries LZF on strings longer than this: shorter ones never shrink. */
const LZF_MIN_LENGTH = 21;
/** An LZF instruction of 3 bytes yields at most 264: no valid string expands further. */
const LZF_MAX_RATIO = 88;
/** The longest string a JavaScript engine can hold (V8: about 2^29 chars). */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

// ---------------------------------------------------------------------------------------
// What the codec reads and writes

/** One key of the keyspace. */
export interface RdbEntry {
  key: string;
  value: string;
  /** Absolute Unix ms after which the key is gone, or null if it never expires. */
  deadline: bigint | null;
}

/** What RdbDecoder finds in a file, in file order. */
export type RdbEvent =
  | { type: 'header'; version: number }
  | { type: 'aux'; name: string; value: string } // redis-ver, ctime, repl-id, ... and any other
  | { type: 'select-db'; db: number }
  | { type: 'resize-db'; keys: number; expires: number } // a hint: how big to make the tables
  | ({ type: 'entry' } & RdbEntry)
  | { type: 'end'; checksum: ChecksumCheck };

/** 'verified': it matched. 'not-computed': stored as 0 (rdbchecksum no). 'absent': RDB < 5. */
export type ChecksumCheck = 'verified' | 'not-computed' | 'absent';

/** A file the decoder cannot load. `offset` is the byte where the problem is. */
export class RdbError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RdbError';
  }
}

// ---------------------------------------------------------------------------------------
// Writing

/** The keys of one database to write, and the sizes Redis writes as RESIZEDB hints. */
export interface RdbSnapshot {
  /** Read once, lazily, as the encoder hands out slices. */
  entries: Iterable<RdbEntry>;
  /** How many entries there are (RESIZEDB hint). */
  keys: number;
  /** How many of them have a deadline (RESIZEDB hint). */
  expires: number;
  /** The database number for SELECTDB; 0 unless said. */
  db?: number;
}

/** The aux fields Redis 7.0 writes, and its two file options. */
export interface RdbWriteOptions {
  /** `redis-ver`; RDB_REDIS_VERSION unless said. */
  redisVersion?: string;
  /** `ctime`: when the snapshot was taken, Unix seconds; now unless said. */
  ctime?: number;
  /** `used-mem`: the server's memory use in bytes; this process's RSS unless said. */
  usedMemory?: number;
  /** `aof-base`: true when the file is the base of a multi-part AOF. */
  aofBase?: boolean;
  /** `repl-stream-db`, `repl-id`, `repl-offset`: written for a replica's full resync. */
  replication?: { streamDb: number; replId: string; offset: bigint | number };
  /** rdbcompression: LZF-compress strings over 20 bytes when it saves space. Default true. */
  compression?: boolean;
  /** rdbchecksum: compute the CRC-64 trailer; false writes zeros. Default true. */
  checksum?: boolean;
}

/** How much one RdbEncoder.next() may return. Whichever limit is reached first ends it. */
export interface SliceLimits {
  /** The most entries in the slice; 1024 unless said. */
  entries?: number;
  /** Ends the slice after the entry that takes it past this many bytes; 1 MiB unless said. */
  bytes?: number;
}

const DEFAULT_SLICE: Required<SliceLimits> = { entries: 1024, bytes: 1 << 20 };

/**
 * Writes an RDB file in slices. Each next() returns the bytes for the next few entries
 * (the header comes with the first slice, EOF and the checksum with the last), so the
 * caller decides when to write them and how much to do per turn of the event loop; the
 * file as a whole is never in memory. Iterating the encoder yields the same slices with
 * the default limits.
 */
export class RdbEncoder implements Iterable<Buffer> {
  private readonly out = new ByteWriter();
  private readonly crc = new Crc64();
  private entries: Iterator<RdbEntry> | null = null;
  /** The first entry, read early to see whether the database is empty. */
  private first: RdbEntry | null = null;
  private state: 'start' | 'entries' | 'done' = 'start';
  private written = 0;
  private count = 0;

  constructor(
    private readonly snapshot: RdbSnapshot,
    private readonly options: RdbWriteOptions = {},
  ) {}

  /** Entries written so far. */
  get entriesWritten(): number {
    return this.count;
  }

  /** Bytes handed out so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** True once the last slice (with the checksum) has been handed out. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** The next slice of the file, or null after the last one. */
  next(limits: SliceLimits = {}): Buffer | null {
    if (this.state === 'done') return null;
    const maxEntries = Math.max(1, limits.entries ?? DEFAULT_SLICE.entries);
    const maxBytes = limits.bytes ?? DEFAULT_SLICE.bytes;
    if (this.state === 'start') this.writeStart();
    const compress = this.options.compression ?? true;
    for (let n = 0; n < maxEntries && this.out.length < maxBytes; n++) {
      const entry = this.nextEntry();
      if (entry === null) {
        this.writeEnd();
        break;
      }
      writeEntry(this.out, entry, compress);
      this.count++;
    }
    return this.takeSlice();
  }

  private nextEntry(): RdbEntry | null {
    const first = this.first;
    if (first !== null) {
      this.first = null;
      return first;
    }
    const next = this.entries!.next();
    return next.done === true ? null : next.value;
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    for (let slice = this.next(); slice !== null; slice = this.next()) yield slice;
  }

  /** Magic, aux fields, and SELECTDB + RESIZEDB unless the database is empty. */
  private writeStart(): void {
    const out = this.out;
    const o = this.options;
    out.text(`REDIS${String(RDB_VERSION).padStart(4, '0')}`);
    writeAux(out, 'redis-ver', o.redisVersion ?? RDB_REDIS_VERSION);
    writeAux(out, 'redis-bits', '64');
    writeAux(out, 'ctime', String(o.ctime ?? Math.floor(Date.now() / 1000)));
    writeAux(out, 'used-mem', String(o.usedMemory ?? process.memoryUsage.rss()));
    if (o.replication !== undefined) {
      writeAux(out, 'repl-stream-db', String(o.replication.streamDb));
      writeAux(out, 'repl-id', o.replication.replId);
      writeAux(out, 'repl-offset', String(o.replication.offset));
    }
    writeAux(out, 'aof-base', o.aofBase === true ? '1' : '0');
    // Redis writes nothing for an empty database, so look at the first entry first.
    this.entries = this.snapshot.entries[Symbol.iterator]();
    this.first = this.nextEntry();
    if (this.first !== null) {
      out.byte(OPCODE.SELECTDB);
      writeLength(out, this.snapshot.db ?? 0);
      out.byte(OPCODE.RESIZEDB);
      writeLength(out, this.snapshot.keys);
      writeLength(out, this.snapshot.expires);
    }
    this.state = 'entries';
  }

  /** EOF, then the CRC-64 of everything before the checksum itself. */
  private writeEnd(): void {
    this.out.byte(OPCODE.EOF);
    const body = this.out.view();
    this.crc.update(body);
    this.out.bytes((this.options.checksum ?? true) ? this.crc.toBytes() : Buffer.alloc(8));
    this.state = 'done';
  }

  private takeSlice(): Buffer {
    const slice = this.out.take();
    // The final slice was checksummed in writeEnd, up to (not including) the checksum.
    if (this.state !== 'done') this.crc.update(slice);
    this.written += slice.length;
    return slice;
  }
}

/** A whole RDB file in one Buffer: for small snapshots and tests. */
export function encodeRdb(snapshot: RdbSnapshot, options: RdbWriteOptions = {}): Buffer {
  return Buffer.concat([...new RdbEncoder(snapshot, options)]);
}

function writeAux(out: ByteWriter, name: string, value: string): void {
  out.byte(OPCODE.AUX);
  writeString(out, name, false);
  writeString(out, value, false);
}

function writeEntry(out: ByteWriter, entry: RdbEntry, compress: boolean): void {
  if (entry.deadline !== null) {
    out.byte(OPCODE.EXPIRETIME_MS);
    out.int64LE(entry.deadline);
  }
  out.byte(TYPE_STRING);
  writeString(out, entry.key, compress);
  writeString(out, entry.value, compress);
}

/** A length in the shortest of its four forms. */
function writeLength(out: ByteWriter, n: number): void {
  if (n < 1 << 6) {
    out.byte(n);
  } else if (n < 1 << 14) {
    out.byte(LENGTH_14BIT | (n >>> 8));
    out.byte(n & 0xff);
  } else if (n <= 0xffffffff) {
    out.byte(LENGTH_32BIT);
    out.uint32BE(n);
  } else {
    out.byte(LENGTH_64BIT);
    out.uint32BE(Math.floor(n / 2 ** 32));
    out.uint32BE(n >>> 0);
  }
}

/**
 * A string as Redis's rdbSaveRawString writes it: as an integer if it is one that fits
 * 32 bits, else LZF-compressed if that saves at least 4 bytes, else as it is.
 */
function writeString(out: ByteWriter, text: string, compress: boolean): void {
  const integer = int32Value(text);
  if (integer !== null) {
    writeInteger(out, integer);
  } else if (!compress || text.length < LZF_MIN_LENGTH || !writeCompressed(out, text)) {
    writeLength(out, text.length);
    out.text(text);
  }
}

/** The number a string holds if Redis would store it as an integer encoding, else null. */
function int32Value(text: string): number | null {
  // Only strings of up to 11 chars ("-2147483648") are tried; most strings fail the first
  // character test, before the stricter parse.
  if (text.length === 0 || text.length > 11) return null;
  const c = text.charCodeAt(0);
  if (c !== 45 /* - */ && (c < 48 || c > 57)) return null;
  const n = parseInt64(text);
  return n !== null && n >= -(2n ** 31n) && n < 2n ** 31n ? Number(n) : null;
}

function writeInteger(out: ByteWriter, n: number): void {
  if (n >= -128 && n <= 127) {
    out.byte(SPECIAL_ENCODING | ENCODING.INT8);
    out.byte(n & 0xff);
  } else if (n >= -32768 && n <= 32767) {
    out.byte(SPECIAL_ENCODING | ENCODING.INT16);
    out.byte(n & 0xff);
    out.byte((n >> 8) & 0xff);
  } else {
    out.byte(SPECIAL_ENCODING | ENCODING.INT32);
    out.int32LE(n);
  }
}

/** Writes the string LZF-compressed and returns true, or writes nothing and returns false. */
function writeCompressed(out: ByteWriter, text: string): boolean {
  const raw = out.scratch(0, text.length);
  raw.write(text, 0, 'latin1');
  // As Redis: only worth it if it saves at least 4 bytes (room for len - 4 bytes).
  const packed = out.scratch(1, text.length - 4);
  const size = lzfCompress(raw, packed);
  if (size === 0) return false;
  out.byte(SPECIAL_ENCODING | ENCODING.LZF);
  writeLength(out, size);
  writeLength(out, text.length);
  out.bytes(packed.subarray(0, size));
  return true;
}

/**
 * A growable byte buffer that hands out what it holds as a slice and starts afresh (the
 * caller keeps the slice, so its memory is never reused).
 */
class ByteWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  length = 0;
  private readonly scratchBuffers: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** A latin1 string, one byte per char. */
  text(text: string): void {
    this.reserve(text.length);
    // Short strings (most keys and values) copy faster in a loop than through native code.
    if (text.length > 32) {
      this.length += this.buf.write(text, this.length, 'latin1');
    } else {
      for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
    }
  }

  uint32BE(n: number): void {
    this.reserve(4);
    this.length = this.buf.writeUInt32BE(n, this.length);
  }

  int32LE(n: number): void {
    this.reserve(4);
    this.length = this.buf.writeInt32LE(n, this.length);
  }

  int64LE(n: bigint): void {
    this.reserve(8);
    this.length = this.buf.writeBigInt64LE(n, this.length);
  }

  /** What has been written since the last take(), without taking it. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Hands out everything written so far and starts a new buffer of about that size. */
  take(): Buffer {
    const slice = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(this.length, 16 << 20)));
    this.length = 0;
    return slice;
  }

  /** One of two reusable work buffers of at least `size` bytes (for compression). */
  scratch(which: 0 | 1, size: number): Buffer {
    if (this.scratchBuffers[which]!.length < size) this.scratchBuffers[which] = Buffer.allocUnsafe(Math.max(size, 4096));
    return this.scratchBuffers[which]!.subarray(0, size);
  }
}

// ---------------------------------------------------------------------------------------
// Reading

/** Thrown inside the decoder when an item runs past the bytes fed so far. */
const NEED_MORE = Symbol('need more bytes');
/** `reading` while a key's value is read: the message names the key (quoted only then). */
const VALUE = 'the value of key';

/**
 * Reads an RDB file fed in pieces of any size. feed() the bytes as they arrive; next()
 * returns the next event, or null until more bytes come (or after the end); end() says
 * no more bytes will come and throws if the file stopped short. Each item (an opcode and
 * its operands, or a key and its value) is parsed once all its bytes are in, so a key is
 * never split; a large value arriving in many pieces is joined once, not once per piece.
 * Throws RdbError for anything it cannot load, naming the byte offset.
 */
export class RdbDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** The file offset of buf[0]. */
  private base = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Where the item being parsed starts, and how many bytes from there it needs. */
  private itemStart = 0;
  private needed = 0;

  private readonly crc = new Crc64();
  /** buf[0, crcDone) is already in the CRC. */
  private crcDone = 0;

  private state: 'magic' | 'body' | 'checksum' | 'done' = 'magic';
  private version = 0;
  /** The deadline an EXPIRETIME opcode set for the next key. */
  private deadline: bigint | null = null;
  /** What is being read, for a message if the file stops inside it or is wrong there. */
  private reading = 'the magic string "REDIS" and the version';
  /** The key whose value is being read (when `reading` is VALUE). */
  private key = '';
  /** Set by length(): the byte was 11xxxxxx, and the length is a special encoding. */
  private specialEncoding = false;
  private failure: RdbError | null = null;
  private lzfBuffer = Buffer.alloc(0);

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length && this.pending.length === 0) {
      this.moveTo(chunk);
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** True once the whole file, checksum included, has been read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Bytes of the file read so far. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The next event, or null when more bytes are needed (or the file is done). */
  next(): RdbEvent | null {
    if (this.failure !== null) throw this.failure;
    try {
      while (this.state !== 'done') {
        this.itemStart = this.pos;
        try {
          const event = this.parseItem();
          if (event !== null) return event;
        } catch (e) {
          if (e !== NEED_MORE) throw e;
          this.pos = this.itemStart;
          if (!this.pullPending()) return null;
        }
      }
      return null;
    } catch (e) {
      if (e instanceof RdbError) this.failure = e;
      throw e;
    }
  }

  /** No more bytes will come: throws RdbError unless the whole file was read. */
  end(): void {
    if (this.failure !== null) throw this.failure;
    if (this.state === 'done') return;
    const total = this.base + this.buf.length + this.pendingBytes;
    const start = this.base + this.itemStart;
    const missing = this.state === 'checksum' ? 'the checksum is missing' : 'the EOF marker and checksum are missing';
    const where = this.state !== 'magic' && total === start ? missing : `it stops inside ${this.describeReading()}, which starts at byte ${start}`;
    this.failure = new RdbError(`RDB file is truncated at byte ${total}: ${where}`, total);
    throw this.failure;
  }

  /** The bytes fed after the end of the file (for a replica: the command stream). */
  takeRemaining(): Buffer {
    const rest = Buffer.concat([this.buf.subarray(this.pos), ...this.pending]);
    this.moveTo(Buffer.alloc(0));
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }

  // ---- Items ----------------------------------------------------------------------------

  /** Parses one item and returns its event, or null for one that only sets state. */
  private parseItem(): RdbEvent | null {
    switch (this.state) {
      case 'magic':
        return this.parseMagic();
      case 'checksum':
        return this.parseChecksum();
      default:
        return this.parseOpcode();
    }
  }

  private parseMagic(): RdbEvent {
    this.need(9);
    const magic = this.buf.toString('latin1', this.pos, this.pos + 9);
    if (!magic.startsWith('REDIS')) {
      throw new RdbError(`Not an RDB file: it starts with ${quote(magic.slice(0, 5))}, not "REDIS"`, 0);
    }
    if (!/^\d{4}$/.test(magic.slice(5))) throw new RdbError(`Not an RDB file: version ${quote(magic.slice(5))} is not 4 digits`, 5);
    this.version = Number(magic.slice(5));
    if (this.version < 1 || this.version > RDB_MAX_READ_VERSION) {
      throw new RdbError(`Can't handle RDB format version ${this.version}: this reader knows versions 1 to ${RDB_MAX_READ_VERSION}`, 5);
    }
    this.pos += 9;
    this.state = 'body';
    return { type: 'header', version: this.version };
  }

  private parseOpcode(): RdbEvent | null {
    this.reading = 'an opcode';
    const at = this.pos;
    const opcode = this.byte();
    switch (opcode) {
      case TYPE_STRING:
        return this.parseStringEntry();
      case OPCODE.EXPIRETIME_MS:
        this.reading = 'an EXPIRETIME_MS deadline';
        this.need(8);
        this.deadline = this.buf.readBigInt64LE(this.pos);
        this.pos += 8;
        return null;
      case OPCODE.EXPIRETIME:
        this.reading = 'an EXPIRETIME deadline';
        this.need(4);
        this.deadline = BigInt(this.buf.readInt32LE(this.pos)) * 1000n;
        this.pos += 4;
        return null;
      case OPCODE.IDLE:
        this.reading = 'an IDLE hint';
        this.length();
        return null;
      case OPCODE.FREQ:
        this.reading = 'a FREQ hint';
        this.byte();
        return null;
      case OPCODE.AUX: {
        this.reading = 'an AUX field';
        const name = this.string();
        const value = this.string();
        return { type: 'aux', name, value };
      }
      case OPCODE.SELECTDB:
        this.reading = 'a SELECTDB';
        return { type: 'select-db', db: this.length() };
      case OPCODE.RESIZEDB: {
        this.reading = 'a RESIZEDB hint';
        const keys = this.length();
        return { type: 'resize-db', keys, expires: this.length() };
      }
      case OPCODE.EOF:
        if (this.version >= 5) {
          this.state = 'checksum';
          return null;
        }
        this.state = 'done';
        return { type: 'end', checksum: 'absent' };
      case OPCODE.FUNCTION2:
      case OPCODE.FUNCTION_PRE_GA:
        throw new RdbError(
          `Can't load the Redis Functions library at byte ${this.base + at}: functions are not supported (FUNCTION FLUSH on the server that wrote the file removes them)`,
          this.base + at,
        );
      case OPCODE.MODULE_AUX:
        throw new RdbError(`Can't load module data (MODULE_AUX) at byte ${this.base + at}: modules are not supported`, this.base + at);
      default:
        if (opcode === OPCODE.SLOT_INFO && this.version >= 12) {
          this.reading = 'a SLOT_INFO hint';
          this.length(); // slot
          this.length(); // keys in it
          this.length(); // keys with a deadline in it
          return null;
        }
        return this.refuseValueType(opcode, at);
    }
  }

  private parseStringEntry(): RdbEvent {
    this.reading = 'a key';
    const key = this.string();
    this.key = key;
    this.reading = VALUE;
    const value = this.string();
    const deadline = this.deadline;
    this.deadline = null;
    return { type: 'entry', key, value, deadline };
  }

  /** A value type other than string stops the load, naming the key, or an unknown byte. */
  private refuseValueType(type: number, at: number): never {
    const offset = this.base + at;
    const name = VALUE_TYPE_NAMES[type];
    if (name === undefined) {
      throw new RdbError(`Unknown RDB opcode or value type ${type} (0x${type.toString(16)}) at byte ${offset}: the file is corrupt or from a newer Redis`, offset);
    }
    this.reading = `the key of a ${name}`;
    const key = this.string();
    throw new RdbError(`Can't load key ${quote(key)} at byte ${offset}: its value is a ${name}, and only strings are supported`, offset);
  }

  private parseChecksum(): RdbEvent {
    this.reading = 'the CRC-64 checksum';
    this.need(8);
    this.updateCrc(this.pos);
    const stored = this.buf.readBigUInt64LE(this.pos);
    const offset = this.base + this.pos;
    this.pos += 8;
    this.crcDone = this.pos;
    this.state = 'done';
    if (stored === 0n) return { type: 'end', checksum: 'not-computed' };
    const computed = this.crc.value;
    if (stored !== computed) {
      throw new RdbError(`RDB checksum mismatch at byte ${offset}: the file says ${hex64(stored)}, its contents give ${hex64(computed)}`, offset);
    }
    return { type: 'end', checksum: 'verified' };
  }

  // ---- Primitives -----------------------------------------------------------------------

  /** Makes sure n bytes from pos are in the buffer, or abandons the item until they are. */
  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.needed = this.pos + n - this.itemStart;
      throw NEED_MORE;
    }
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** A length, or with specialEncoding set, the number of a special string encoding. */
  private length(): number {
    const first = this.byte();
    this.specialEncoding = false;
    switch (first >>> 6) {
      case 0:
        return first;
      case 1:
        return ((first & 0x3f) << 8) | this.byte();
      case 3:
        this.specialEncoding = true;
        return first & 0x3f;
    }
    if (first === LENGTH_32BIT) {
      this.need(4);
      const n = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return n;
    }
    if (first === LENGTH_64BIT) {
      this.need(8);
      const n = this.buf.readBigUInt64BE(this.pos);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`Length ${n} is too large`, this.pos - 1);
      this.pos += 8;
      return Number(n);
    }
    return this.fail(`Unknown length encoding 0x${first.toString(16)}`, this.pos - 1);
  }

  /** A string in any of its encodings: raw, integer, or LZF-compressed. */
  private string(): string {
    const at = this.pos;
    const n = this.length();
    if (!this.specialEncoding) return this.raw(n, at);
    switch (n) {
      case ENCODING.INT8:
        this.need(1);
        return String(this.buf.readInt8(this.pos++));
      case ENCODING.INT16:
        this.need(2);
        this.pos += 2;
        return String(this.buf.readInt16LE(this.pos - 2));
      case ENCODING.INT32:
        this.need(4);
        this.pos += 4;
        return String(this.buf.readInt32LE(this.pos - 4));
      case ENCODING.LZF:
        return this.compressed(at);
      default:
        return this.fail(`Unknown string encoding ${n}`, at);
    }
  }

  private raw(length: number, at: number): string {
    if (length > MAX_STRING_LENGTH) this.fail(`String of ${length} bytes is longer than JavaScript can hold`, at);
    this.need(length);
    this.pos += length;
    return this.buf.toString('latin1', this.pos - length, this.pos);
  }

  private compressed(at: number): string {
    const packedLength = this.length();
    const length = this.length();
    if (length > MAX_STRING_LENGTH || length > packedLength * LZF_MAX_RATIO) {
      this.fail(`LZF string claims ${length} bytes from ${packedLength} compressed bytes`, at);
    }
    this.need(packedLength);
    if (this.lzfBuffer.length < length) this.lzfBuffer = Buffer.allocUnsafe(length);
    let produced: number;
    try {
      produced = lzfDecompress(this.buf.subarray(this.pos, this.pos + packedLength), this.lzfBuffer.subarray(0, length));
    } catch (e) {
      if (e instanceof LzfError) this.fail(`Invalid LZF compressed string: ${e.message}`, at);
      throw e;
    }
    if (produced !== length) this.fail(`Invalid LZF compressed string: ${produced} bytes instead of ${length}`, at);
    this.pos += packedLength;
    const text = this.lzfBuffer.toString('latin1', 0, length);
    if (this.lzfBuffer.length > 1 << 20) this.lzfBuffer = Buffer.alloc(0); // don't keep a big one
    return text;
  }

  private fail(message: string, at: number): never {
    throw new RdbError(`${message} at byte ${this.base + at}, in ${this.describeReading()}`, this.base + at);
  }

  private describeReading(): string {
    return this.reading === VALUE ? `${VALUE} ${quote(this.key)}` : this.reading;
  }

  // ---- Buffers and the checksum ---------------------------------------------------------

  /** Adds buf[crcDone, upTo) to the CRC. */
  private updateCrc(upTo: number): void {
    if (this.state !== 'done' && upTo > this.crcDone) this.crc.update(this.buf, this.crcDone, upTo);
    this.crcDone = upTo;
  }

  /** Continues in `next`, once the bytes before pos are in the CRC. */
  private moveTo(next: Buffer): void {
    this.updateCrc(this.pos);
    this.base += this.pos;
    this.buf = next;
    this.pos = 0;
    this.crcDone = 0;
  }

  /**
   * Brings more fed bytes into view for the item that ran out, once there are enough of
   * them. Only the unread tail of the current buffer is copied, with the pieces it needs.
   */
  private pullPending(): boolean {
    const tail = this.buf.length - this.pos;
    if (this.pending.length === 0 || tail + this.pendingBytes < this.needed) return false;
    const pieces: Buffer[] = tail > 0 ? [this.buf.subarray(this.pos)] : [];
    let size = tail;
    while (this.pending.length > 0 && (size < this.needed || pieces.length === 0)) {
      const piece = this.pending.shift()!;
      pieces.push(piece);
      size += piece.length;
      this.pendingBytes -= piece.length;
    }
    this.moveTo(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size));
    return true;
  }
}

/** Every event of a whole file held in memory (dump.rdb at start), without copying it. */
export function* decodeRdb(file: Buffer): Generator<RdbEvent> {
  const decoder = new RdbDecoder();
  decoder.feed(file);
  for (let event = decoder.next(); event !== null; event = decoder.next()) yield event;
  decoder.end();
}

/** Every event of a file read from a stream (a file stream, a socket), as pieces arrive. */
export async function* decodeRdbStream(source: AsyncIterable<Buffer>): AsyncGenerator<RdbEvent> {
  const decoder = new RdbDecoder();
  for await (const chunk of source) {
    decoder.feed(chunk);
    for (let event = decoder.next(); event !== null; event = decoder.next()) yield event;
    if (decoder.done) return;
  }
  decoder.end();
}

// ---------------------------------------------------------------------------------------
// Messages

const MAX_QUOTED = 64;

/** A binary-safe string for a message: "quoted", with \n, \xHH etc. escaped, shortened. */
function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < Math.min(text.length, MAX_QUOTED); i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += '\\' + text[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += text[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return text.length > MAX_QUOTED ? `${out}"... (${text.length} bytes)` : `${out}"`;
}

function hex64(n: bigint): string {
  return '0x' + n.toString(16).padStart(16, '0');
}
