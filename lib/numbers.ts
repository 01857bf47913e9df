// Numbers as Redis reads and writes them. Redis is strict: "+1", " 1", "01" and "1.0" are
// not integers, and integers are signed 64-bit.

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a signed 64-bit integer the way Redis's string2ll does: an optional '-', then
 * digits with no leading zero ("0" alone is fine), nothing else. Returns null otherwise.
 */
export function parseInt64(text: string): bigint | null {
  if (!/^(0|-?[1-9]\d{0,18})$/.test(text)) return null;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? null : n;
}

// ---------------------------------------------------------------------------------------
// INCRBYFLOAT's arithmetic, exactly as Redis does it on x86-64: strtold() reads each number
// into an 80-bit long double (64-bit significand), the sum is rounded to one, and
// printf("%.17Lf") writes it back with trailing zeros removed. Doing the same with exact
// BigInt arithmetic gives Redis's very digits ("1010.59999999999999998"), which a
// JavaScript double could not.

/** A finite long double: significand × 2^exponent, with a separate sign (so -0 exists). */
interface LongDouble {
  negative: boolean;
  significand: bigint; // < 2^64
  exponent: number;
}

const SIGNIFICAND_BITS = 64;
const MIN_EXPONENT = -16445; // exponent of the smallest subnormal, 2^-16445
const MAX_VALUE_BITS = 16384; // values at or above 2^16384 overflow to infinity
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

export type IncrByFloatResult = { ok: true; text: string } | { ok: false; reason: 'not-a-float' | 'nan-or-infinity' };

export function incrByFloat(current: string, increment: string): IncrByFloatResult {
  const a = parseLongDouble(current);
  const b = parseLongDouble(increment);
  if (a === null || b === null) return { ok: false, reason: 'not-a-float' };
  if (a === 'inf' || a === '-inf' || b === 'inf' || b === '-inf') return { ok: false, reason: 'nan-or-infinity' };
  const sum = addLongDoubles(a, b);
  if (sum === 'inf') return { ok: false, reason: 'nan-or-infinity' };
  return { ok: true, text: formatLongDouble(sum) };
}

/** strtold as Redis's string2ld uses it; null where Redis says "not a valid float". */
function parseLongDouble(text: string): LongDouble | 'inf' | '-inf' | null {
  if (text.length === 0 || text.length >= MAX_LONG_DOUBLE_CHARS) return null;
  const hex = /^([+-]?)0x(?:([0-9a-f]+)\.?([0-9a-f]*)|\.([0-9a-f]+))(?:p([+-]?\d+))?$/i.exec(text);
  if (hex !== null) {
    // strtold also reads C99 hex floats: hex digits scaled by a power of two ("0x1.8p3" is 12).
    const fraction = hex[3] ?? hex[4] ?? '';
    const digits = BigInt('0x' + ((hex[2] ?? '') + fraction || '0'));
    const exponent = Number(hex[5] ?? 0) - 4 * fraction.length;
    if (Math.abs(exponent) > 100_000) return digits === 0n ? zero(hex[1] === '-') : null;
    return finite(hex[1] === '-', digits, 1n, exponent);
  }
  const m = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$|^([+-]?)(inf|infinity)$/i.exec(text);
  if (m === null) return null;
  if (m[7] !== undefined) return m[6] === '-' ? '-inf' : 'inf';
  const negative = m[1] === '-';
  const fraction = m[3] ?? m[4] ?? '';
  const digits = BigInt((m[2] ?? '') + fraction || '0');
  const scale = Number(m[5] ?? 0) - fraction.length;
  if (digits === 0n) return zero(negative);
  // Far out of range either way: strtold reports ERANGE, and Redis refuses the number.
  if (Math.abs(scale) > 100_000) return null;
  return scale >= 0 ? finite(negative, digits * 10n ** BigInt(scale), 1n, 0) : finite(negative, digits, 10n ** BigInt(-scale), 0);
}

const zero = (negative: boolean): LongDouble => ({ negative, significand: 0n, exponent: 0 });

/**
 * (numerator / denominator) × 2^exponent as a long double, or null where strtold sets
 * ERANGE (overflow to infinity, underflow to zero) and Redis says "not a valid float".
 */
function finite(negative: boolean, numerator: bigint, denominator: bigint, exponent: number): LongDouble | null {
  if (numerator === 0n) return zero(negative);
  const rounded = roundToLongDouble(numerator, denominator, exponent);
  if (rounded === 'inf' || rounded.significand === 0n) return null;
  return { ...rounded, negative };
}

function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble | 'inf' {
  const exponent = Math.min(a.exponent, b.exponent);
  const signed = (x: LongDouble) => (x.negative ? -1n : 1n) * (x.significand << BigInt(x.exponent - exponent));
  const sum = signed(a) + signed(b);
  if (sum === 0n) return { negative: a.negative && b.negative, significand: 0n, exponent: 0 };
  const rounded = roundToLongDouble(sum < 0n ? -sum : sum, 1n, exponent);
  return rounded === 'inf' ? 'inf' : { ...rounded, negative: sum < 0n };
}

/**
 * Rounds the positive rational (numerator / denominator) × 2^exponent to the nearest long
 * double, ties to even, with subnormals below 2^-16382.
 */
function roundToLongDouble(numerator: bigint, denominator: bigint, exponent: number): LongDouble | 'inf' {
  // Pick a shift so the quotient has exactly 64 bits (or fewer, in the subnormal range).
  let shift = bitLength(numerator) - bitLength(denominator) - SIGNIFICAND_BITS;
  for (;;) {
    const e = Math.max(shift + exponent, MIN_EXPONENT) - exponent;
    const [q, r, d] = divideScaled(numerator, denominator, e);
    if (q >= 1n << BigInt(SIGNIFICAND_BITS)) {
      shift++;
      continue;
    }
    if (q < 1n << BigInt(SIGNIFICAND_BITS - 1) && e + exponent > MIN_EXPONENT) {
      shift--;
      continue;
    }
    let significand = q;
    let outExponent = e + exponent;
    if (2n * r > d || (2n * r === d && (q & 1n) === 1n)) significand++;
    if (significand === 1n << BigInt(SIGNIFICAND_BITS)) {
      significand >>= 1n;
      outExponent++;
    }
    if (significand !== 0n && bitLength(significand) + outExponent > MAX_VALUE_BITS) return 'inf';
    return { negative: false, significand, exponent: outExponent };
  }
}

/** floor(n / d / 2^e) with its remainder and divisor, e of either sign. */
function divideScaled(n: bigint, d: bigint, e: number): [bigint, bigint, bigint] {
  if (e >= 0) d <<= BigInt(e);
  else n <<= BigInt(-e);
  return [n / d, n % d, d];
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** printf("%.17Lf"), then trailing zeros and a trailing '.' removed, and "-0" as "0". */
function formatLongDouble(x: LongDouble): string {
  const scale = 10n ** 17n;
  let scaled: bigint;
  if (x.exponent >= 0) {
    scaled = (x.significand << BigInt(x.exponent)) * scale;
  } else {
    const d = 1n << BigInt(-x.exponent);
    const n = x.significand * scale;
    scaled = n / d;
    const r = n % d;
    if (2n * r > d || (2n * r === d && (scaled & 1n) === 1n)) scaled++;
  }
  const whole = (scaled / scale).toString();
  const fraction = (scaled % scale).toString().padStart(17, '0').replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return x.negative && text !== '0' ? `-${text}` : text;
}
