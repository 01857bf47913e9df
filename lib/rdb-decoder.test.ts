// lib/rdb-decoder.ts: the same events however the file is cut into pieces, every encoding
// Redis writes (including those this codec never writes), and every way a file can be
// wrong, each refused with a message that says where and why.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { RdbEvent } from './rdb.ts';
import { RdbDecoder, decodeRdbStream } from './rdb-decoder.ts';
import { EOF, SAMPLE, craft, decodeError, decodeInPieces, encode, entriesOf, entry, events, str } from '../test/helpers/rdb-files.ts';

// ---------------------------------------------------------------------------------------
// Streaming

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
