// CRC-64 as Redis computes it for the RDB trailer (and DUMP payloads): the "Jones"
// polynomial 0xad93d23594c935a9, bit-reflected (bytes enter least significant bit first),
// initial value 0, no final XOR. Check value: crc64("123456789") = 0xe9c6d914c4b8d9ca.
//
// JavaScript has no fast 64-bit integer (BigInt allocates on every operation), so the
// 64-bit register lives in two unsigned 32-bit halves, `hi` and `lo`. The tables are the
// classic table-driven CRC, sliced by 8: each table answers "what do these 8 bits do to
// the register k bytes from now", so eight bytes cost eight lookups and one shift.

const POLYNOMIAL = 0xad93d23594c935a9n;

/** The polynomial with its 64 bits in reverse order, as a reflected CRC shifts right. */
function reflect64(n: bigint): bigint {
  let reflected = 0n;
  for (let bit = 0; bit < 64; bit++) if ((n >> BigInt(bit)) & 1n) reflected |= 1n << BigInt(63 - bit);
  return reflected;
}

/**
 * LO[k * 256 + byte] and HI[k * 256 + byte]: the low and high halves of the register after
 * `byte` is shifted through it followed by k zero bytes (k = 0..7). Two flat Int32Arrays
 * measured faster than one interleaved table.
 */
const { LO, HI } = buildTables();

function buildTables(): { LO: Int32Array; HI: Int32Array } {
  const reflected = reflect64(POLYNOMIAL);
  const polyLo = Number(reflected & 0xffffffffn) | 0;
  const polyHi = Number(reflected >> 32n) | 0;
  const LO = new Int32Array(8 * 256);
  const HI = new Int32Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let lo = byte;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = (lo >>> 1) | (hi << 31);
      hi = hi >>> 1;
      if (carry) {
        lo ^= polyLo;
        hi ^= polyHi;
      }
    }
    LO[byte] = lo;
    HI[byte] = hi;
  }
  // Table k: table k-1's entry pushed through one more zero byte.
  for (let k = 1; k < 8; k++) {
    for (let byte = 0; byte < 256; byte++) {
      const lo = LO[(k - 1) * 256 + byte]!;
      const hi = HI[(k - 1) * 256 + byte]!;
      const t = lo & 0xff;
      LO[k * 256 + byte] = ((lo >>> 8) | (hi << 24)) ^ LO[t]!;
      HI[k * 256 + byte] = (hi >>> 8) ^ HI[t]!;
    }
  }
  return { LO, HI };
}

/**
 * A running CRC-64 over bytes that arrive in pieces: update() with each piece in order,
 * then read `value`. The RDB encoder and decoder keep one each.
 */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  /** Starts from a CRC already computed (0n, the default, for a fresh one). */
  constructor(initial = 0n) {
    this.lo = Number(initial & 0xffffffffn) | 0;
    this.hi = Number((initial >> 32n) & 0xffffffffn) | 0;
  }

  /** Feeds bytes [start, end) of `data`. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    // Eight bytes at a time: XOR them into the register, then one lookup per byte in the
    // table for its distance from the end of the group.
    for (const stop = end - 7; i < stop; i += 8) {
      const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
      const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
      const x7 = 7 * 256 + (a & 0xff);
      const x6 = 6 * 256 + ((a >>> 8) & 0xff);
      const x5 = 5 * 256 + ((a >>> 16) & 0xff);
      const x4 = 4 * 256 + (a >>> 24);
      const x3 = 3 * 256 + (b & 0xff);
      const x2 = 2 * 256 + ((b >>> 8) & 0xff);
      const x1 = 256 + ((b >>> 16) & 0xff);
      const x0 = b >>> 24;
      lo = LO[x7]! ^ LO[x6]! ^ LO[x5]! ^ LO[x4]! ^ LO[x3]! ^ LO[x2]! ^ LO[x1]! ^ LO[x0]!;
      hi = HI[x7]! ^ HI[x6]! ^ HI[x5]! ^ HI[x4]! ^ HI[x3]! ^ HI[x2]! ^ HI[x1]! ^ HI[x0]!;
    }
    // The last few bytes one at a time.
    for (; i < end; i++) {
      const t = (lo ^ data[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[t]!;
      hi = (hi >>> 8) ^ HI[t]!;
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  /** The CRC of everything fed so far. */
  get value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** The CRC as Redis stores it after an RDB's EOF byte: 8 bytes, little-endian. */
  toBytes(): Buffer {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(this.lo >>> 0, 0);
    bytes.writeUInt32LE(this.hi >>> 0, 4);
    return bytes;
  }
}

/** The CRC-64 of `data` in one call, optionally continuing from `initial`. */
export function crc64(data: Uint8Array, initial = 0n): bigint {
  return new Crc64(initial).update(data).value;
}
