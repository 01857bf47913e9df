// Writing RDB: what SAVE and BGSAVE put in dump.rdb, and what a master sends a replica for
// a full resync. RdbEncoder hands out the file in slices of a few thousand keys, so a
// server writes a snapshot between event-loop turns, or sends it to a replica under
// backpressure, and never holds the whole file in memory. It writes RDB version 10 as
// Redis 7.0's rdbSaveRio does: the header and aux fields, SELECTDB and RESIZEDB, each key
// with its deadline (rdbSaveKeyValuePair), strings as integers or LZF where Redis would
// (rdbSaveRawString), EOF and the CRC-64. The format itself is described in rdb.ts.
import { Crc64 } from './crc64.ts';
import { lzfCompress } from './lzf.ts';
import { parseInt64 } from './numbers.ts';
import {
  ENCODING, LENGTH_14BIT, LENGTH_32BIT, LENGTH_64BIT, OPCODE, RDB_REDIS_VERSION, RDB_VERSION, SPECIAL_ENCODING, TYPE_STRING,
  type RdbEntry, type RdbSnapshot,
} from './rdb.ts';

/** Redis only tries LZF on strings longer than this: shorter ones never shrink. */
const LZF_MIN_LENGTH = 21;

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
