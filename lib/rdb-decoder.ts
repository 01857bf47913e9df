// Reading RDB: dump.rdb at start, and the snapshot a replica receives from its master.
// RdbDecoder is fed bytes as they arrive and returns one event per key (and per header
// field), so a replica loads a snapshot straight off its master's socket, and pieces are
// joined only where an item straddles them. It reads RDB versions 1 to 12 as Redis's rdbLoadRio does,
// verifies the CRC-64, and stops at anything but strings with a message naming the key,
// the type and the byte offset. The format itself is described in rdb.ts.
import { Crc64 } from './crc64.ts';
import { LzfError, lzfDecompress } from './lzf.ts';
import {
  ENCODING, LENGTH_32BIT, LENGTH_64BIT, OPCODE, RDB_MAX_READ_VERSION, RdbError, TYPE_STRING, VALUE_TYPE_NAMES,
  type RdbEvent,
} from './rdb.ts';

/** An LZF instruction of 3 bytes yields at most 264: no valid string expands further. */
const LZF_MAX_RATIO = 88;
/** The longest string a JavaScript engine can hold (V8: about 2^29 chars). */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

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
