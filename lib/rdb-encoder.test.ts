// lib/rdb-encoder.ts: the bytes it writes, down to the byte map in rdb.ts's opening
// comment; every string and length encoding where Redis would use it; and the file handed
// out in slices, lazily, whatever their size.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RdbEntry } from './rdb.ts';
import { RdbEncoder, encodeRdb } from './rdb-encoder.ts';
import { EOF, FIXED, SAMPLE, craft, encode, entriesOf, entry, events, snapshot, str } from '../test/helpers/rdb-files.ts';

// ---------------------------------------------------------------------------------------
// Writing

describe('RdbEncoder writes what Redis 7.0 writes', () => {
  it("writes the byte map in rdb.ts's header comment", () => {
    const file = encode([entry('k', 'v', 1_700_000_000_000n)], { usedMemory: 1_000_000 });
    const expected = craft(
      10,
      [0xfa], str('redis-ver'), str('7.0.15'),
      [0xfa], str('redis-bits'), [0xc0, 64],
      [0xfa], str('ctime'), [0xc2, 0x00, 0xf1, 0x53, 0x65], // 1700000000, 32-bit little-endian
      [0xfa], str('used-mem'), [0xc2, 0x40, 0x42, 0x0f, 0x00], // 1000000
      [0xfa], str('aof-base'), [0xc0, 0],
      [0xfe, 0], // SELECTDB 0
      [0xfb, 1, 1], // RESIZEDB 1 key, 1 deadline
      [0xfc, 0x00, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0x00, 0x00], // 1700000000000 ms
      [0x00], str('k'), str('v'),
      EOF,
    );
    expect(file.toString('hex')).toBe(expected.toString('hex'));
  });

  it('writes no SELECTDB or RESIZEDB for an empty database, as Redis does', () => {
    const file = encode([]);
    expect(file.subarray(-9, -8)[0]).toBe(0xff);
    expect(file.includes(Buffer.from([0xfe, 0x00, 0xfb]))).toBe(false);
    expect(events(file).map((e) => e.type)).toEqual(['header', 'aux', 'aux', 'aux', 'aux', 'aux', 'end']);
  });

  it('writes the replication aux fields a master sends a replica, in Redis order', () => {
    const file = encode([], { replication: { streamDb: 0, replId: 'a'.repeat(40), offset: 1234n } });
    const aux = events(file).flatMap((e) => (e.type === 'aux' ? [[e.name, e.value]] : []));
    expect(aux).toEqual([
      ['redis-ver', '7.0.15'],
      ['redis-bits', '64'],
      ['ctime', '1700000000'],
      ['used-mem', '1000000'],
      ['repl-stream-db', '0'],
      ['repl-id', 'a'.repeat(40)],
      ['repl-offset', '1234'],
      ['aof-base', '0'],
    ]);
  });

  it('writes zeros for the checksum when asked (rdbchecksum no)', () => {
    const file = encode(SAMPLE, { checksum: false });
    expect(file.subarray(-8).equals(Buffer.alloc(8))).toBe(true);
    expect(events(file).at(-1)).toEqual({ type: 'end', checksum: 'not-computed' });
  });

  describe('stores a string as an integer exactly when Redis does', () => {
    it.each([
      ['0', 'c000'],
      ['-1', 'c0ff'],
      ['127', 'c07f'],
      ['-128', 'c080'],
      ['128', 'c18000'],
      ['-129', 'c17fff'],
      ['32767', 'c1ff7f'],
      ['-32768', 'c10080'],
      ['32768', 'c200800000'],
      ['-32769', 'c2ff7fffff'],
      ['2147483647', 'c2ffffff7f'],
      ['-2147483648', 'c200000080'],
    ])('%j as %s', (text, hex) => {
      const file = encode([entry('k', text)]);
      expect(file.includes(Buffer.concat([str('k'), Buffer.from(hex, 'hex')]))).toBe(true);
      expect(entriesOf(file)[0]!.value).toBe(text);
    });

    it.each(['2147483648', '-2147483649', '9223372036854775807', '0123', '-0', '+1', ' 1', '1 ', '1.0', '00', '-'])(
      '%j stays a string',
      (text) => {
        const file = encode([entry('k', text)]);
        expect(file.includes(Buffer.concat([str('k'), str(text)]))).toBe(true);
        expect(entriesOf(file)[0]!.value).toBe(text);
      },
    );

    it('stores an integer-looking key as an integer too', () => {
      const file = encode([entry('1000', 'v')]);
      expect(file.includes(Buffer.from([0x00, 0xc1, 0xe8, 0x03, 0x01, 0x76]))).toBe(true);
      expect(entriesOf(file)).toEqual([entry('1000', 'v')]);
    });
  });

  describe('writes every length form at its boundaries', () => {
    it.each([
      [0, '00'],
      [63, '3f'],
      [64, '4040'],
      [16383, '7fff'],
      [16384, '8000004000'],
      [70000, '8000011170'],
    ])('a %d-byte string has the length %s', (length, hex) => {
      const value = 'x'.repeat(length);
      const file = encode([entry('k', value)], { compression: false });
      expect(file.includes(Buffer.concat([str('k'), Buffer.from(hex, 'hex'), Buffer.from(value)]))).toBe(true);
      expect(entriesOf(file)[0]!.value).toBe(value);
    });

    it.each([
      [2 ** 32 - 1, '80ffffffff'],
      [2 ** 32, '810000000100000000'],
      [Number.MAX_SAFE_INTEGER, '81001fffffffffffff'],
    ])('a count of %d (in RESIZEDB) has the length %s', (keys, hex) => {
      const file = encodeRdb({ entries: [entry('k', 'v')], keys, expires: 0 }, FIXED);
      expect(file.includes(Buffer.concat([Buffer.from([0xfb]), Buffer.from(hex, 'hex'), Buffer.from([0])]))).toBe(true);
      expect(events(file).find((e) => e.type === 'resize-db')).toEqual({ type: 'resize-db', keys, expires: 0 });
    });
  });

  describe('LZF-compresses strings over 20 bytes when it saves space, as rdbcompression yes', () => {
    it('compresses a repetitive value and a repetitive key', () => {
      const key = 'key:'.repeat(20);
      const value = 'abcd'.repeat(1000);
      const file = encode([entry(key, value)]);
      expect(file.length).toBeLessThan(300);
      expect(file.includes(Buffer.from(value.slice(0, 100)))).toBe(false);
      expect(entriesOf(file)).toEqual([entry(key, value)]);
    });

    it('leaves 20-byte values and incompressible values as they are', () => {
      const short = 'a'.repeat(20);
      const random = randomBytes(1000).toString('latin1');
      const file = encode([entry('s', short), entry('r', random)]);
      expect(file.includes(Buffer.concat([str('s'), str(short)]))).toBe(true);
      expect(file.includes(Buffer.from(random, 'latin1'))).toBe(true);
    });

    it('writes nothing compressed with compression off', () => {
      const value = 'abcd'.repeat(1000);
      expect(encode([entry('k', value)], { compression: false }).includes(Buffer.from(value))).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Streaming

describe('RdbEncoder hands out the file in slices', () => {
  /** Entries made on demand, counting how many were asked for. */
  function* counted(n: number, pulled: { count: number }): Generator<RdbEntry> {
    for (let i = 0; i < n; i++) {
      pulled.count++;
      yield entry(`key:${i}`, `value:${i}`, i % 3 === 0 ? BigInt(1_800_000_000_000 + i) : null);
    }
  }

  it('reads the entries lazily: a slice of N entries pulls exactly N', () => {
    const pulled = { count: 0 };
    const encoder = new RdbEncoder({ entries: counted(10_000, pulled), keys: 10_000, expires: 3334 }, FIXED);
    encoder.next({ entries: 100 });
    expect(pulled.count).toBe(100);
    expect(encoder.entriesWritten).toBe(100);
    encoder.next({ entries: 50 });
    expect(pulled.count).toBe(150);
  });

  it('joins into the same file as encodeRdb, whatever the slice sizes', () => {
    const whole = encodeRdb({ entries: counted(5000, { count: 0 }), keys: 5000, expires: 1667 }, FIXED);
    for (const entries of [1, 7, 1000, 100_000]) {
      const encoder = new RdbEncoder({ entries: counted(5000, { count: 0 }), keys: 5000, expires: 1667 }, FIXED);
      const slices: Buffer[] = [];
      for (let s = encoder.next({ entries }); s !== null; s = encoder.next({ entries })) slices.push(s);
      expect(Buffer.concat(slices).equals(whole), `${entries} entries per slice`).toBe(true);
      expect(encoder.done).toBe(true);
      expect(encoder.bytesWritten).toBe(whole.length);
      expect(slices.length).toBeGreaterThanOrEqual(Math.ceil(5000 / entries));
    }
  });

  it('ends a slice once it passes the byte limit', () => {
    const big = Array.from({ length: 20 }, (_, i) => entry(`k${i}`, randomBytes(10_000).toString('latin1')));
    const encoder = new RdbEncoder(snapshot(big), FIXED);
    const sizes: number[] = [];
    for (let s = encoder.next({ bytes: 25_000 }); s !== null; s = encoder.next({ bytes: 25_000 })) sizes.push(s.length);
    // Each slice stops after the entry that crossed 25,000 bytes: 3 entries of ~10 KB.
    expect(sizes.slice(0, -1).every((n) => n > 25_000 && n < 35_000)).toBe(true);
    expect(sizes.length).toBe(7);
  });

  it('is iterable, for Readable.from() and for..of', async () => {
    const slices = [...new RdbEncoder(snapshot(SAMPLE), FIXED)];
    expect(Buffer.concat(slices).equals(encode(SAMPLE))).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of Readable.from(new RdbEncoder(snapshot(SAMPLE), FIXED))) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(encode(SAMPLE))).toBe(true);
  });
});
