// LZF: what we compress decompresses to the same bytes, what Redis compressed decompresses
// to what Redis meant, the compressor never writes past the room it is given, and bytes
// that are not LZF are refused.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LzfError, lzfCompress, lzfDecompress } from './lzf.ts';

/** Compresses with room for the worst case (a control byte per 32 literals), or null. */
function compress(input: Buffer, room = input.length + Math.ceil(input.length / 32) + 1): Buffer | null {
  const out = Buffer.alloc(room);
  const size = lzfCompress(input, out);
  return size === 0 ? null : out.subarray(0, size);
}

function decompress(packed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  expect(lzfDecompress(packed, out)).toBe(length);
  return out;
}

describe('lzfDecompress', () => {
  it('expands what Redis 7.0 wrote for 39 times "a" (taken from a real dump.rdb)', () => {
    // Literal "aa", then "copy 28 bytes from 1 back" (overlapping), then literal "aa".
    const packed = Buffer.from('016161e01a00016161', 'hex');
    expect(decompress(packed, 39).toString('latin1')).toBe('a'.repeat(39));
  });

  it('refuses a literal run cut short by the end of the data', () => {
    expect(() => lzfDecompress(Buffer.from([0x03, 0x61, 0x62]), Buffer.alloc(10))).toThrow(LzfError);
  });

  it('refuses a back reference cut short', () => {
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0x20]), Buffer.alloc(10))).toThrow(/cut short/);
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x01]), Buffer.alloc(10))).toThrow(/cut short/);
  });

  it('refuses a back reference to before the start of the output', () => {
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0x20, 0x01]), Buffer.alloc(10))).toThrow(/before the start/);
  });

  it('refuses data that expands past the output', () => {
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x10, 0x00]), Buffer.alloc(10))).toThrow(/more than 10 bytes/);
    expect(() => lzfDecompress(Buffer.from([0x02, 0x61, 0x62, 0x63]), Buffer.alloc(2))).toThrow(/more than 2 bytes/);
  });
});

describe('lzfCompress', () => {
  it.each([
    ['one byte repeated', Buffer.alloc(100_000, 'a')],
    ['a phrase repeated', Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(500))],
    ['every byte value', Buffer.from(Array.from({ length: 2048 }, (_, i) => i % 256))],
    ['random bytes', randomBytes(5000)],
  ])('round-trips %s', (_, input) => {
    const packed = compress(input);
    expect(packed).not.toBeNull();
    expect(decompress(packed!, input.length).equals(input)).toBe(true);
  });

  it('references a repeat 8192 bytes back, the farthest an offset reaches, and not one 8193 back', () => {
    for (const distance of [8192, 8193]) {
      const block = randomBytes(distance);
      const input = Buffer.concat([block, block]);
      const packed = compress(input)!;
      expect(decompress(packed, input.length).equals(input)).toBe(true);
      // Random bytes cost a little more than themselves; a referenced copy costs ~3%.
      if (distance === 8192) expect(packed.length).toBeLessThan(distance * 1.1);
      else expect(packed.length).toBeGreaterThan(input.length);
    }
  });

  it('shrinks repetitive data a lot (a 264-byte match costs 3 bytes)', () => {
    expect(compress(Buffer.alloc(100_000, 'a'))!.length).toBeLessThan(100_000 / 80);
  });

  it('gives up (returns 0) on random bytes with room for input length - 4, as Redis asks', () => {
    const input = randomBytes(1000);
    expect(lzfCompress(input, Buffer.alloc(input.length - 4))).toBe(0);
  });

  it('never writes past the room it is given: with any room, 0 or a valid result that fits', () => {
    const input = Buffer.from('abcabcabcabc-xyz-abcabc-0123456789-0123456789-' + 'q'.repeat(50));
    const full = compress(input)!;
    for (let room = 0; room <= full.length + 2; room++) {
      const area = Buffer.alloc(room + 8, 0xee);
      const size = lzfCompress(input, area.subarray(0, room));
      expect(area.subarray(room).every((b) => b === 0xee), `room ${room}`).toBe(true);
      if (room < full.length) expect(size, `room ${room}`).toBe(0);
      else expect(decompress(area.subarray(0, size), input.length).equals(input)).toBe(true);
    }
  });

  it('round-trips any bytes (property)', () => {
    // Small alphabets make matches of every length and distance likely.
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.constantFrom(0x61, 0x62), { maxLength: 3000 }).map((a) => Uint8Array.from(a)),
      fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 20_000 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(bytes, (input) => {
        const buf = Buffer.from(input);
        const packed = compress(buf);
        if (buf.length === 0) return packed === null;
        return packed !== null && decompress(packed, buf.length).equals(buf);
      }),
      { numRuns: 300 },
    );
  });
});
