// Writing replies: the server's side of RESP, in RESP2 or RESP3. ReplyWriter encodes a
// connection's replies into one buffer that leaves in one socket write per batch, as
// Redis's addReply* functions (networking.c) fill a client's output buffer for the event
// loop to write before it sleeps. Each connection has its own protocol version (HELLO
// changes it), and RESP3-only types fall back to their RESP2 shapes. encode() and
// encodeCommand() write one value into a Buffer of its own: a message for many clients, a
// command for the append-only file, a request as a client sends it.
//
// Step 02 teaches the same encoding with plain strings (02-resp-parser/resp.ts); this one
// writes the same bytes, faster, and each trick is marked "Speed:" (see resp.ts).
import { bulks, latin1Write, type ProtocolVersion, type RespValue } from './resp.ts';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

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

  /** An error reply written directly: the connection loop's answer to a malformed request. */
  error(message: string): void {
    this.line('-', message);
  }

  private bulkString(value: string, prefix = '$'): void {
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
