// The RDB codec: the bytes it writes (down to the byte map in rdb.ts's header), round
// trips, every encoding Redis uses for strings and lengths, streaming in both directions,
// and every way a file can be wrong. The last part holds it against real Redis:
// redis-check-rdb and redis-server read what we write, and we read what Redis writes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { crc64 } from './crc64.ts';
import { RdbError, type RdbEntry, type RdbEvent, type RdbSnapshot } from './rdb.ts';
import { RdbEncoder, encodeRdb, type RdbWriteOptions } from './rdb-encoder.ts';
import { RdbDecoder, decodeRdb, decodeRdbStream } from './rdb-decoder.ts';
import type { RespValue } from './resp.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { runProgram } from '../test/helpers/redis-tools.ts';

// ---------------------------------------------------------------------------------------
// Helpers

/** Fixed aux values, so the bytes of a file are known. */
const FIXED: RdbWriteOptions = { ctime: 1_700_000_000, usedMemory: 1_000_000 };

function snapshot(entries: RdbEntry[]): RdbSnapshot {
  return { entries, keys: entries.length, expires: entries.filter((e) => e.deadline !== null).length };
}

const entry = (key: string, value: string, deadline: bigint | null = null): RdbEntry => ({ key, value, deadline });

function encode(entries: RdbEntry[], options: RdbWriteOptions = {}): Buffer {
  return encodeRdb(snapshot(entries), { ...FIXED, ...options });
}

function events(file: Buffer): RdbEvent[] {
  return [...decodeRdb(file)];
}

function entriesOf(file: Buffer): RdbEntry[] {
  return events(file).flatMap((e) => (e.type === 'entry' ? [{ key: e.key, value: e.value, deadline: e.deadline }] : []));
}

/** The error decoding `file` stops with (fails the test if it loads). */
function decodeError(file: Buffer): RdbError {
  try {
    events(file);
  } catch (e) {
    if (e instanceof RdbError) return e;
    throw e;
  }
  throw new Error('the file loaded, but an RdbError was expected');
}

type Part = number[] | string | Buffer;
const bytesOf = (part: Part): Buffer => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part));

/** A file made by hand: magic, the parts, and (from version 5 on) the CRC-64 trailer. */
function craft(version: number, ...parts: Part[]): Buffer {
  const body = Buffer.concat([bytesOf(`REDIS${String(version).padStart(4, '0')}`), ...parts.map(bytesOf)]);
  if (version < 5) return body;
  const trailer = Buffer.alloc(8);
  trailer.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, trailer]);
}

/** A raw string shorter than 64 bytes: its 6-bit length, then its bytes. */
const str = (text: string): Buffer => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);

const EOF = [0xff];

/** Feeds the file in the pieces given by `cuts` and collects the events. */
function decodeInPieces(file: Buffer, cuts: number[]): RdbEvent[] {
  const decoder = new RdbDecoder();
  const out: RdbEvent[] = [];
  let from = 0;
  for (const to of [...cuts, file.length]) {
    decoder.feed(file.subarray(from, to));
    from = to;
    for (let e = decoder.next(); e !== null; e = decoder.next()) out.push(e);
  }
  decoder.end();
  return out;
}

const SAMPLE: RdbEntry[] = [
  entry('greeting', 'hello world'),
  entry('n', '42'),
  entry('neg', '-70000'),
  entry('empty', ''),
  entry('', 'empty key'),
  entry('bin\x00\r\n\xff', '\x00\x01\x02\xfe\xff'),
  entry('soon', 'gone', 1_800_000_000_123n),
  entry('long', 'abc'.repeat(100), 4_000_000_000_000n),
];

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
// Round trips

describe('what RdbEncoder writes, RdbDecoder reads back', () => {
  it.each<[string, RdbEntry[]]>([
    ['an empty database', []],
    ['the sample keys (binary, empty, integers, deadlines)', SAMPLE],
    ['every byte value in keys and values', Array.from({ length: 256 }, (_, i) => entry(String.fromCharCode(i) + 'k', String.fromCharCode(255 - i).repeat(i)))],
    ['large values, random and repetitive', [entry('random', randomBytes(300_000).toString('latin1')), entry('same', 'z'.repeat(1_000_000))]],
    ['integer-looking values', ['0', '-0', '1', '+1', '0123', '-128', '2147483648', '-9223372036854775808', '18446744073709551616'].map((v, i) => entry(`n${i}`, v))],
    ['deadlines at the edges of 64 bits', [entry('a', '1', 0n), entry('b', '2', 1n), entry('c', '3', 2n ** 63n - 1n), entry('d', '4', -1n)]],
  ])('%s', (_, entries) => {
    for (const compression of [true, false]) {
      const file = encode(entries, { compression });
      expect(entriesOf(file)).toEqual(entries);
      expect(events(file).at(-1)).toEqual({ type: 'end', checksum: 'verified' });
    }
  });

  it('reports the header, aux fields, SELECTDB and RESIZEDB as events, in file order', () => {
    const types = events(encodeRdb({ ...snapshot(SAMPLE), db: 3 }, FIXED)).map((e) => (e.type === 'select-db' ? `db ${e.db}` : e.type));
    expect(types.slice(0, 9)).toEqual(['header', 'aux', 'aux', 'aux', 'aux', 'aux', 'db 3', 'resize-db', 'entry']);
    expect(types.at(-1)).toBe('end');
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

describe('RdbDecoder reads a file fed in pieces', () => {
  const file = encode(SAMPLE);
  const expected = events(file);

  it('gives the same events with the file split in two at every byte', () => {
    for (let cut = 0; cut <= file.length; cut++) expect(decodeInPieces(file, [cut]), `cut at ${cut}`).toEqual(expected);
  });

  it('gives the same events fed one byte at a time', () => {
    expect(decodeInPieces(file, Array.from({ length: file.length }, (_, i) => i))).toEqual(expected);
  });

  it('gives an entry only once all of it is in, and says where it is', () => {
    const decoder = new RdbDecoder();
    const at = file.indexOf(Buffer.from('greeting')) + 4;
    decoder.feed(file.subarray(0, at));
    const seen: RdbEvent[] = [];
    for (let e = decoder.next(); e !== null; e = decoder.next()) seen.push(e);
    expect(seen.some((e) => e.type === 'entry')).toBe(false);
    expect(decoder.offset).toBe(at - 4 - 2); // before the type byte and the key's length
    decoder.feed(file.subarray(at));
    expect(decoder.next()).toEqual({ type: 'entry', key: 'greeting', value: 'hello world', deadline: null });
  });

  it('joins a large value arriving in many pieces once, not once per piece', () => {
    const big = encode([entry('big', randomBytes(4 << 20).toString('latin1'))]);
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      const pieces = Array.from({ length: Math.ceil(big.length / 16384) }, (_, i) => (i + 1) * 16384).filter((n) => n < big.length);
      expect(entriesOf(big)).toEqual(decodeInPieces(big, pieces).filter((e) => e.type === 'entry').map(({ type: _, ...rest }) => rest));
      expect(concat.mock.calls.length).toBeLessThan(10);
    } finally {
      concat.mockRestore();
    }
  });

  it('leaves the bytes after the checksum for the caller (a replica: the command stream)', () => {
    const decoder = new RdbDecoder();
    const after = Buffer.from('*1\r\n$4\r\nPING\r\n');
    decoder.feed(Buffer.concat([file.subarray(0, 50)]));
    decoder.feed(Buffer.concat([file.subarray(50), after.subarray(0, 5)]));
    decoder.feed(after.subarray(5));
    const seen: RdbEvent[] = [];
    for (let e = decoder.next(); e !== null; e = decoder.next()) seen.push(e);
    expect(seen).toEqual(expected);
    expect(decoder.done).toBe(true);
    expect(decoder.offset).toBe(file.length);
    expect(decoder.takeRemaining().equals(after)).toBe(true);
  });

  it('reads from a stream with decodeRdbStream', async () => {
    const pieces = [file.subarray(0, 17), file.subarray(17, 100), file.subarray(100)];
    const seen: RdbEvent[] = [];
    for await (const e of decodeRdbStream(Readable.from(pieces))) seen.push(e);
    expect(seen).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------
// Reading what Redis writes, including what we never write

describe('RdbDecoder reads every encoding Redis uses', () => {
  it('reads 14-bit, 32-bit and 64-bit lengths wherever a length goes, even when longer than needed', () => {
    const file = craft(
      9,
      [0xfe, 0x40, 0x00], // SELECTDB 0 as a 14-bit length
      [0xfb, 0x80, 0, 0, 0, 2, 0x81, 0, 0, 0, 0, 0, 0, 0, 1], // RESIZEDB 2 (32-bit), 1 (64-bit)
      [0x00, 0x40, 0x01, 0x61, 0x80, 0, 0, 0, 2, 0x62, 0x63], // "a" = "bc"
      [0x00, 0x81, 0, 0, 0, 0, 0, 0, 0, 1, 0x64, 0x00], // "d" = ""
      EOF,
    );
    expect(events(file).slice(1, -1)).toEqual([
      { type: 'select-db', db: 0 },
      { type: 'resize-db', keys: 2, expires: 1 },
      { type: 'entry', key: 'a', value: 'bc', deadline: null },
      { type: 'entry', key: 'd', value: '', deadline: null },
    ]);
  });

  it('reads second-precision EXPIRETIME (0xFD) as milliseconds, and EXPIRETIME_MS (0xFC)', () => {
    const file = craft(9, [0xfd, 0x00, 0xf1, 0x53, 0x65, 0], str('s'), str('1'), [0xfc, 0x01, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0, 0, 0], str('m'), str('2'), [0], str('p'), str('3'), EOF);
    expect(entriesOf(file)).toEqual([entry('s', '1', 1_700_000_000_000n), entry('m', '2', 1_700_000_000_001n), entry('p', '3')]);
  });

  it('skips IDLE and FREQ hints, and reports aux fields it has never heard of', () => {
    const file = craft(10, [0xfa], str('%custom'), str('info'), [0xf8, 0x40, 0x10, 0xf9, 200, 0], str('k'), str('v'), EOF);
    expect(events(file).slice(1)).toEqual([
      { type: 'aux', name: '%custom', value: 'info' },
      { type: 'entry', key: 'k', value: 'v', deadline: null },
      { type: 'end', checksum: 'verified' },
    ]);
  });

  it('skips a SLOT_INFO hint in a version 12 file (Redis 7.4 cluster mode)', () => {
    expect(entriesOf(craft(12, [0xf4, 5, 1, 0, 0], str('k'), str('v'), EOF))).toEqual([entry('k', 'v')]);
    expect(decodeError(craft(10, [0xf4, 5, 1, 0, 0], str('k'), str('v'), EOF)).message).toMatch(/Unknown RDB opcode or value type 244/);
  });

  it('reads versions 1 to 12; before version 5 there is no checksum', () => {
    for (let version = 1; version <= 12; version++) {
      const file = craft(version, [0], str('k'), str('v'), EOF);
      expect(events(file), `version ${version}`).toEqual([
        { type: 'header', version },
        { type: 'entry', key: 'k', value: 'v', deadline: null },
        { type: 'end', checksum: version < 5 ? 'absent' : 'verified' },
      ]);
    }
  });

  it('refuses versions it does not know, and files that are not RDB', () => {
    expect(decodeError(craft(13, EOF)).message).toBe("Can't handle RDB format version 13: this reader knows versions 1 to 12");
    expect(decodeError(craft(0, EOF)).message).toMatch(/version 0/);
    expect(decodeError(Buffer.from('*1\r\n$4\r\nPING\r\n')).message).toBe('Not an RDB file: it starts with "*1\\r\\n$", not "REDIS"');
    expect(decodeError(Buffer.from('REDIS00x9\xff')).message).toMatch(/"00x9" is not 4 digits/);
  });
});

// ---------------------------------------------------------------------------------------
// Files it must refuse

describe('RdbDecoder stops, saying where and why, and never drops data silently', () => {
  const file = encode(SAMPLE);

  it('stops on a file cut at any byte, saying where it ends', () => {
    for (let cut = 0; cut < file.length; cut++) {
      const error = decodeError(file.subarray(0, cut));
      expect(error.message, `cut at ${cut}`).toMatch(new RegExp(`^RDB file is truncated at byte ${cut}: `));
      expect(error.offset).toBe(cut);
    }
  });

  it('names what was being read when the file stops', () => {
    const valueAt = file.indexOf(Buffer.from('hello world'));
    expect(decodeError(file.subarray(0, valueAt + 3)).message).toBe(
      `RDB file is truncated at byte ${valueAt + 3}: it stops inside the value of key "greeting", which starts at byte ${valueAt - 11}`,
    );
    expect(decodeError(file.subarray(0, file.length - 9)).message).toBe(`RDB file is truncated at byte ${file.length - 9}: the EOF marker and checksum are missing`);
    expect(decodeError(file.subarray(0, file.length - 8)).message).toBe(`RDB file is truncated at byte ${file.length - 8}: the checksum is missing`);
    expect(decodeError(file.subarray(0, 4)).message).toMatch(/inside the magic string "REDIS" and the version, which starts at byte 0/);
  });

  it('stops on any single flipped bit (most with a checksum mismatch), never loading wrong data', () => {
    let mismatches = 0;
    for (let i = 0; i < file.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(file);
        flipped[i]! ^= 1 << bit;
        const error = decodeError(flipped);
        if (error.message.startsWith('RDB checksum mismatch')) mismatches++;
      }
    }
    expect(mismatches).toBeGreaterThan(file.length * 8 * 0.5);
  });

  it('reports a checksum mismatch with the offset of the checksum and both values', () => {
    const flipped = Buffer.from(file);
    flipped[flipped.indexOf(Buffer.from('hello world'))]! ^= 0x20; // "Hello world"
    const error = decodeError(flipped);
    expect(error.message).toMatch(/^RDB checksum mismatch at byte \d+: the file says 0x[0-9a-f]{16}, its contents give 0x[0-9a-f]{16}$/);
    expect(error.offset).toBe(file.length - 8);
  });

  it('does not check a checksum stored as 0 (rdbchecksum no), as Redis', () => {
    const unchecked = encode(SAMPLE, { checksum: false });
    unchecked[unchecked.indexOf(Buffer.from('hello world'))]! ^= 0x20;
    expect(entriesOf(unchecked)[0]).toEqual(entry('greeting', 'Hello world'));
  });

  it.each([
    [1, 'list (linked list)'],
    [4, 'hash (hashtable)'],
    [11, 'set (intset)'],
    [14, 'list (quicklist)'],
    [15, 'stream (listpacks)'],
    [17, 'zset (listpack)'],
    [18, 'list (quicklist v2)'],
    [20, 'set (listpack)'],
    [25, 'hash (listpack, field expiries)'],
  ])('refuses value type %d, naming the key, the type and the offset', (type, name) => {
    const before = craft(10, [0], str('ok'), str('v'));
    const refused = craft(10, [0], str('ok'), str('v'), [type], str('my\x00key\n'), [0x05, 0x01, 0x02], EOF);
    const error = decodeError(refused);
    expect(error.message).toBe(`Can't load key "my\\x00key\\n" at byte ${before.length - 8}: its value is a ${name}, and only strings are supported`);
    expect(error.offset).toBe(before.length - 8);
  });

  it('refuses a byte that is neither an opcode nor a value type, with its offset', () => {
    const error = decodeError(craft(10, [0], str('ok'), str('v'), [8], str('k'), str('v'), EOF));
    expect(error.message).toBe('Unknown RDB opcode or value type 8 (0x8) at byte 15: the file is corrupt or from a newer Redis');
    expect(error.offset).toBe(15);
  });

  it('refuses Redis Functions libraries and module data rather than skipping them', () => {
    const library = '#!lua name=mylib\nredis.register_function("f", function() return 1 end)';
    expect(decodeError(craft(10, [0xf5], Buffer.concat([Buffer.from([0x40, library.length]), Buffer.from(library)]), EOF)).message).toBe(
      "Can't load the Redis Functions library at byte 9: functions are not supported (FUNCTION FLUSH on the server that wrote the file removes them)",
    );
    expect(decodeError(craft(10, [0xf7, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 2, 2], EOF)).message).toBe(
      "Can't load module data (MODULE_AUX) at byte 9: modules are not supported",
    );
  });

  it('refuses corrupt LZF data and an LZF string that does not expand to its stated size', () => {
    const bad = craft(10, [0], str('k'), [0xc3, 4, 10, 0x00, 0x61, 0x20, 0x05], EOF); // reference too far back
    expect(decodeError(bad).message).toBe('Invalid LZF compressed string: LZF back reference points 6 bytes back, before the start of the output at byte 12, in the value of key "k"');
    const short = craft(10, [0], str('k'), [0xc3, 4, 10, 0x00, 0x61, 0x20, 0x00], EOF); // makes 4 bytes, not 10
    expect(decodeError(short).message).toMatch(/^Invalid LZF compressed string: 4 bytes instead of 10 at byte 12/);
    const absurd = craft(10, [0], str('k'), [0xc3, 1, 0x80, 0x10, 0, 0, 0, 0x00], EOF);
    expect(decodeError(absurd).message).toMatch(/^LZF string claims 268435456 bytes from 1 compressed bytes at byte 12/);
  });

  it('refuses lengths no string can have and unknown encodings', () => {
    expect(decodeError(craft(10, [0], str('k'), [0x80, 0x7f, 0xff, 0xff, 0xff], EOF)).message).toMatch(/^String of 2147483647 bytes is longer than JavaScript can hold at byte 12/);
    expect(decodeError(craft(10, [0], str('k'), [0x81, 0xff, 0, 0, 0, 0, 0, 0, 0], EOF)).message).toMatch(/^Length 18374686479671623680 is too large/);
    expect(decodeError(craft(10, [0], str('k'), [0x82], EOF)).message).toMatch(/^Unknown length encoding 0x82 at byte 12/);
    expect(decodeError(craft(10, [0], str('k'), [0xc4], EOF)).message).toMatch(/^Unknown string encoding 4 at byte 12, in the value of key "k"/);
  });

  it('keeps refusing after an error', () => {
    const decoder = new RdbDecoder();
    decoder.feed(craft(13, EOF));
    expect(() => decoder.next()).toThrow(/version 13/);
    expect(() => decoder.next()).toThrow(/version 13/);
    expect(() => decoder.end()).toThrow(/version 13/);
  });
});

// ---------------------------------------------------------------------------------------
// Real Redis

/** One command to a server; the reply as a value. */
async function call(client: RawClient, ...args: string[]): Promise<RespValue> {
  client.send(command(...args));
  return (await client.readReplies(1)).values[0]!;
}

/** Writes `entries` with SET and PEXPIREAT (binary-safe: raw RESP). */
async function store(client: RawClient, entries: RdbEntry[]): Promise<void> {
  for (const e of entries) {
    expect(await call(client, 'SET', e.key, e.value)).toEqual({ type: 'simple', value: 'OK' });
    if (e.deadline !== null) expect(await call(client, 'PEXPIREAT', e.key, String(e.deadline))).toEqual({ type: 'integer', value: 1 });
  }
}

/** The keys, values and deadlines a real server holds for `keys`. */
async function fetchEntries(client: RawClient, keys: string[]): Promise<RdbEntry[]> {
  const out: RdbEntry[] = [];
  for (const key of keys) {
    const value = await call(client, 'GET', key);
    const expiry = await call(client, 'PEXPIRETIME', key);
    if (value.type !== 'bulk' || value.value === null || expiry.type !== 'integer') throw new Error(`key ${JSON.stringify(key)} is missing`);
    out.push(entry(key, value.value, expiry.value === -1 ? null : BigInt(expiry.value)));
  }
  return out;
}

const sortByKey = (entries: RdbEntry[]): RdbEntry[] => [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Keys meant to exercise every encoding Redis writes, with deadlines an hour or more away. */
function interopEntries(): RdbEntry[] {
  const later = BigInt(Date.now()) + 3_600_000n;
  const numbers = ['0', '1', '-1', '127', '128', '-128', '-129', '32767', '32768', '-32768', '-32769', '2147483647', '2147483648',
    '-2147483648', '-2147483649', '9223372036854775807', '-9223372036854775808', '0123', '-0', '+1', '007'];
  return [
    entry('short', 'hello'),
    entry('long', randomBytes(5000).toString('latin1'), later),
    entry('compressible', 'the same words again, '.repeat(200), later + 1n),
    entry('compressible-key:'.repeat(5), 'x'),
    entry('empty', ''),
    entry('', 'empty key'),
    entry('binary\x00\xff\r\n', '\x00\x01\x02\x80\xff'),
    entry('64', '65', later + 2n),
    entry('boundary-63', 'y'.repeat(63)),
    entry('boundary-64', 'y'.repeat(64)),
    entry('boundary-16384', randomBytes(16384).toString('latin1')),
    ...numbers.map((n, i) => entry(`num:${i}`, n, i % 2 === 0 ? later + BigInt(i) : null)),
  ];
}

describeWithRedis(['redis-server', 'redis-check-rdb'], 'the RDB codec next to real Redis 7.0', () => {
  let dir: string;
  let redis: RealRedis | undefined;
  let client: RawClient | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'rdb-codec-'));
  });
  afterEach(async () => {
    client?.destroy();
    client = undefined;
    await redis?.stop();
    redis = undefined;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts a real redis-server in its own directory, loading `dbfilename` if it exists. */
  async function startRedis(name: string, dbfilename = 'dump.rdb'): Promise<string> {
    const redisDir = join(dir, name);
    fs.mkdirSync(redisDir, { recursive: true });
    redis = await startRealRedis(['--dbfilename', dbfilename], redisDir);
    client = await RawClient.connect(redis.port);
    return redisDir;
  }

  it('redis-check-rdb accepts every file the encoder writes', async () => {
    const files: Array<[string, Buffer]> = [
      ['empty', encode([])],
      ['interop', encode(interopEntries())],
      ['uncompressed', encode(interopEntries(), { compression: false })],
      ['no-checksum', encode(SAMPLE, { checksum: false })],
      ['replication', encode(SAMPLE, { replication: { streamDb: 0, replId: 'f'.repeat(40), offset: 999 } })],
      ['big', encode([entry('big', 'abc'.repeat(1_000_000)), entry('bigrandom', randomBytes(100_000).toString('latin1'))])],
    ];
    for (const [name, file] of files) {
      const path = join(dir, `${name}.rdb`);
      fs.writeFileSync(path, file);
      const check = await runProgram('redis-check-rdb', [path]);
      expect(check.stdout, name).toContain('RDB looks OK!');
      expect(check.code, name).toBe(0);
    }
  });

  it('a real redis-server loads a dump we wrote: same keys, values and deadlines', async () => {
    const entries = interopEntries();
    const redisDir = join(dir, 'load-ours');
    fs.mkdirSync(redisDir);
    fs.writeFileSync(join(redisDir, 'ours.rdb'), encode(entries));
    await startRedis('load-ours', 'ours.rdb');
    expect(await call(client!, 'DBSIZE')).toEqual({ type: 'integer', value: entries.length });
    expect(await fetchEntries(client!, entries.map((e) => e.key))).toEqual(entries);
    // It read our LZF: the compressible value is not in the file as plain text.
    expect(fs.readFileSync(join(redisDir, 'ours.rdb')).includes(Buffer.from('the same words again, '.repeat(3)))).toBe(false);
  });

  it('reads the dump.rdb a real redis-server writes with SAVE: same keys, values and deadlines', async () => {
    const entries = interopEntries();
    const redisDir = await startRedis('redis-writes');
    await store(client!, entries);
    expect(await call(client!, 'SAVE')).toEqual({ type: 'simple', value: 'OK' });
    const dump = fs.readFileSync(join(redisDir, 'dump.rdb'));
    // Redis used its integer and LZF encodings, so those are what we read.
    expect(dump.includes(Buffer.from('the same words again, '.repeat(3)))).toBe(false);
    expect(dump.includes(Buffer.from([0xc2, 0xff, 0xff, 0xff, 0x7f]))).toBe(true); // 2147483647
    const loaded = events(dump);
    expect(sortByKey(loaded.flatMap((e) => (e.type === 'entry' ? [entry(e.key, e.value, e.deadline)] : [])))).toEqual(sortByKey(entries));
    expect(loaded[0]).toEqual({ type: 'header', version: 10 });
    expect(loaded).toContainEqual({ type: 'aux', name: 'redis-ver', value: '7.0.15' });
    expect(loaded.at(-1)).toEqual({ type: 'end', checksum: 'verified' });
  });

  it.each([
    ['RPUSH', 'list (quicklist v2)'],
    ['HSET', 'hash (listpack)'],
    ['SADD', 'set (intset)'],
  ])('refuses a real dump holding a %s key, naming the key and its type', async (push, name) => {
    const redisDir = await startRedis(`refuse-${push}`);
    const key = 'not\x00a string';
    await call(client!, push, key, ...(push === 'HSET' ? ['field', 'value'] : ['1']));
    expect(await call(client!, 'SAVE')).toEqual({ type: 'simple', value: 'OK' });
    const dump = fs.readFileSync(join(redisDir, 'dump.rdb'));
    const error = decodeError(dump);
    expect(error.message).toMatch(new RegExp(`^Can't load key "not\\\\x00a string" at byte \\d+: its value is a ${name.replace(/[()]/g, '\\$&')}, and only strings are supported$`));
    expect(dump[error.offset]).not.toBe(0); // the offset points at the type byte
  });
});
