// CRC-64 (Jones, reflected) against Redis's own check values, and the table-driven
// implementation against the bit-by-bit definition.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from './crc64.ts';

/**
 * The CRC by its definition, one bit at a time, as Redis's generated _crc64 does it: the
 * polynomial unreflected, input bits least significant first, the result reflected.
 */
function bitwiseCrc64(data: Uint8Array): bigint {
  const poly = 0xad93d23594c935a9n;
  const mask = (1n << 64n) - 1n;
  let crc = 0n;
  for (const byte of data) {
    for (let bit = 0; bit < 8; bit++) {
      let top = (crc >> 63n) & 1n;
      if ((byte >> bit) & 1) top ^= 1n;
      crc = (crc << 1n) & mask;
      if (top) crc ^= poly;
    }
  }
  let reflected = 0n;
  for (let i = 0n; i < 64n; i++) if ((crc >> i) & 1n) reflected |= 1n << (63n - i);
  return reflected;
}

describe('crc64', () => {
  it('gives the check value Redis tests: "123456789" is 0xe9c6d914c4b8d9ca', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });

  it("gives Redis's second test value (its Lorem ipsum, with the C string's final NUL)", () => {
    const li =
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et ' +
      'dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ' +
      'ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu ' +
      'fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt ' +
      'mollit anim id est laborum.\0';
    expect(crc64(Buffer.from(li, 'latin1'))).toBe(0xc7794709e69683b3n);
  });

  it('is 0 for no bytes', () => {
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });

  it('agrees with the bit-by-bit definition for every length from 0 to 40 and for all byte values', () => {
    for (let length = 0; length <= 40; length++) {
      const data = randomBytes(length);
      expect(crc64(data), `length ${length}`).toBe(bitwiseCrc64(data));
    }
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(crc64(everyByte)).toBe(bitwiseCrc64(everyByte));
  });

  it('gives the same CRC however the bytes are split between updates', () => {
    const data = randomBytes(100);
    const whole = crc64(data);
    for (let a = 0; a <= data.length; a++) {
      for (const b of [a, Math.min(a + 3, 100), Math.min(a + 17, 100), 100]) {
        const running = new Crc64().update(data, 0, a).update(data, a, b).update(data, b);
        expect(running.value, `split at ${a} and ${b}`).toBe(whole);
      }
    }
  });

  it('continues from a CRC computed earlier', () => {
    const a = randomBytes(37);
    const b = randomBytes(21);
    expect(crc64(b, crc64(a))).toBe(crc64(Buffer.concat([a, b])));
  });

  it('writes itself as Redis stores it after EOF: 8 bytes, little-endian', () => {
    const crc = new Crc64().update(Buffer.from('123456789'));
    expect(crc.toBytes().toString('hex')).toBe('cad9b8c414d9c6e9');
  });
});
