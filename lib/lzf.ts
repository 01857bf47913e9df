// LZF, the small and fast LZ77 compressor Redis uses for RDB strings longer than 20
// bytes (rdbcompression yes). Compressed data is a sequence of instructions, each
// starting with a control byte:
//
//   000LLLLL  <L+1 literal bytes>        copy the next L+1 bytes (1..32) as they are
//   LLLooooo  oooooooo                   copy L+2 bytes (3..8) from `offset+1` bytes back
//   111ooooo  LLLLLLLL  oooooooo         copy L+9 bytes (9..264) from `offset+1` bytes back
//
// where the offset has 13 bits (up to 8192 bytes back). A back reference may overlap the
// bytes it produces ("copy 100 bytes from 1 back" repeats one byte 100 times). There is no
// header or length: Redis stores the compressed and uncompressed lengths beside the data.

/** Bytes that are not valid LZF, or do not decompress to the size promised. */
export class LzfError extends Error {}

const MAX_LITERAL_RUN = 32;
const MAX_OFFSET = 8192; // how far back a reference may point: 13 bits, plus one
const MAX_MATCH = 264; // 7 + 255 + 2
const MIN_MATCH = 3;

/**
 * Decompresses `input` into `output` and returns how many bytes it wrote. Throws
 * LzfError for data that is not LZF: a literal run or reference cut short, a reference
 * before the start of the output, or more output than `output` can hold.
 */
export function lzfDecompress(input: Uint8Array, output: Uint8Array): number {
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const control = input[ip++]!;
    if (control < MAX_LITERAL_RUN) {
      const run = control + 1;
      if (ip + run > input.length) throw new LzfError(`LZF literal run of ${run} bytes is cut short by the end of the data`);
      if (op + run > output.length) throw new LzfError(`LZF data decompresses to more than ${output.length} bytes`);
      for (let i = 0; i < run; i++) output[op++] = input[ip++]!;
      continue;
    }
    let length = control >>> 5;
    if (length === 7) {
      if (ip >= input.length) throw new LzfError('LZF back reference is cut short by the end of the data');
      length += input[ip++]!;
    }
    if (ip >= input.length) throw new LzfError('LZF back reference is cut short by the end of the data');
    const distance = ((control & 0x1f) << 8) + input[ip++]! + 1;
    length += 2;
    let ref = op - distance;
    if (ref < 0) throw new LzfError(`LZF back reference points ${distance} bytes back, before the start of the output`);
    if (op + length > output.length) throw new LzfError(`LZF data decompresses to more than ${output.length} bytes`);
    // Byte by byte on purpose: the source may overlap what this very copy produces.
    for (let i = 0; i < length; i++) output[op++] = output[ref++]!;
  }
  return op;
}

/**
 * Where each 3-byte sequence was last seen, by hash. Scratch space shared by every call:
 * a stale entry from an earlier input is harmless, because a candidate match is always
 * checked against the bytes of the current input before it is used (as liblzf does with
 * its uninitialised table).
 */
const HASH_BITS = 14;
const lastSeen = new Int32Array(1 << HASH_BITS);

function hash3(data: Uint8Array, at: number): number {
  const v = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
  return Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
}

/**
 * Compresses `input` into `output`, which must not be written past its length, and returns
 * the compressed size, or 0 when the result would not fit (Redis passes room for
 * input.length - 4 bytes and stores the string uncompressed when it gets 0).
 */
export function lzfCompress(input: Uint8Array, output: Uint8Array): number {
  const n = input.length;
  const out = new LzfOutput(output);
  let literalStart = 0;
  let ip = 0;
  while (ip + MIN_MATCH <= n) {
    const slot = hash3(input, ip);
    const ref = lastSeen[slot]!;
    lastSeen[slot] = ip;
    const distance = ip - ref;
    const length = distance > 0 && distance <= MAX_OFFSET ? matchLength(input, ref, ip, Math.min(MAX_MATCH, n - ip)) : 0;
    if (length < MIN_MATCH) {
      ip++;
      continue;
    }
    if (!out.literals(input, literalStart, ip) || !out.reference(length, distance)) return 0;
    // Remember the positions inside the match too, so later repeats of them are found.
    for (let at = ip + 1; at < ip + length && at + MIN_MATCH <= n; at++) lastSeen[hash3(input, at)] = at;
    ip += length;
    literalStart = ip;
  }
  if (!out.literals(input, literalStart, n)) return 0;
  return out.length;
}

/** How many bytes from `ip` repeat those from `ref`, up to `max`. */
function matchLength(data: Uint8Array, ref: number, ip: number, max: number): number {
  let length = 0;
  while (length < max && data[ref + length] === data[ip + length]) length++;
  return length;
}

/** The output of lzfCompress, refusing (false) any instruction that would not fit. */
class LzfOutput {
  length = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Bytes [start, end) of `input` as literal runs of up to 32 bytes. */
  literals(input: Uint8Array, start: number, end: number): boolean {
    while (start < end) {
      const run = Math.min(MAX_LITERAL_RUN, end - start);
      if (this.length + 1 + run > this.bytes.length) return false;
      this.bytes[this.length++] = run - 1;
      for (let i = 0; i < run; i++) this.bytes[this.length++] = input[start++]!;
    }
    return true;
  }

  /** "Copy `length` bytes from `distance` back": 2 bytes up to 8 long, 3 bytes beyond. */
  reference(length: number, distance: number): boolean {
    const l = length - 2;
    const offset = distance - 1;
    const size = l < 7 ? 2 : 3;
    if (this.length + size > this.bytes.length) return false;
    if (l < 7) {
      this.bytes[this.length++] = (l << 5) | (offset >>> 8);
    } else {
      this.bytes[this.length++] = (7 << 5) | (offset >>> 8);
      this.bytes[this.length++] = l - 7;
    }
    this.bytes[this.length++] = offset & 0xff;
    return true;
  }
}
