// lib/resp-reply.ts and lib/resp-reply-parser.ts: replies survive a round trip through the
// encoder and the client-side parser in both RESP2 and RESP3, split anywhere; the encoder
// writes Redis's shapes; and neither does work that grows faster than a batch.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  NULL_ARRAY, NULL_BULK, array, boolean, bulk, bulks, double, error, integer, map, push, set, simple, verbatim,
  type ProtocolVersion, type RespValue,
} from './resp.ts';
import { ReplyWriter, encode, formatDouble } from './resp-reply.ts';
import { ReplyParser } from './resp-reply-parser.ts';
import { ProtocolError } from './resp-request.ts';
import { splitAt } from '../test/helpers/bytes.ts';
import { binaryString } from '../test/helpers/generators.ts';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

// ---------------------------------------------------------------------------------------
// Generators

/** Text for a simple string or an error: any bytes but CR and LF. */
const lineText = fc.uint8Array({ maxLength: 30 }).map((b) => latin1(b.filter((x) => x !== 13 && x !== 10)));

const respValue: fc.Arbitrary<RespValue> = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    lineText.map(simple),
    lineText.map(error),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }).map((n) => integer(n)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((n) => n > 2n ** 53n || n < -(2n ** 53n)).map((n) => integer(n)),
    binaryString.map(bulk),
    fc.constant(NULL_BULK),
    fc.constant(NULL_ARRAY),
    fc.double().filter((d) => !Object.is(d, -0)).map(double),
    fc.boolean().map(boolean),
    fc.tuple(binaryString, fc.constantFrom('txt', 'mkd')).map(([text, format]) => verbatim(text, format)),
    fc.array(tie('value'), { maxLength: 4 }).map(array),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map(map),
    fc.array(tie('value'), { maxLength: 4 }).map(set),
    fc.array(tie('value'), { maxLength: 4 }).map(push),
  ),
})).value;

/** What a client reads back: RESP2 flattens RESP3-only types, RESP3 has one null. */
function asReceived(value: RespValue, protocol: ProtocolVersion): RespValue {
  const each = (items: RespValue[]) => items.map((v) => asReceived(v, protocol));
  switch (value.type) {
    case 'array':
      if (value.items === null) return protocol === 3 ? NULL_BULK : NULL_ARRAY;
      return array(each(value.items));
    case 'map':
      if (protocol === 3) return map(value.entries.map(([k, v]) => [asReceived(k, 3), asReceived(v, 3)]));
      return array(each(value.entries.flat()));
    case 'set':
      return protocol === 3 ? set(each(value.items)) : array(each(value.items));
    case 'push':
      return protocol === 3 ? push(each(value.items)) : array(each(value.items));
    case 'double':
      return protocol === 3 ? { ...value, text: formatDouble(value.value) } : bulk(formatDouble(value.value));
    case 'boolean':
      return protocol === 3 ? value : integer(value.value ? 1 : 0);
    case 'verbatim':
      return protocol === 3 ? value : bulk(value.text);
    default:
      return value;
  }
}

/** Feeds the chunks one by one, taking every complete value after each, as a client does. */
function readReplies(chunks: Buffer[]): { values: RespValue[]; parser: ReplyParser } {
  const parser = new ReplyParser();
  const values: RespValue[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk);
    for (let v = parser.next(); v !== undefined; v = parser.next()) values.push(v);
  }
  return { values, parser };
}

const oneByteAtATime = (bytes: Buffer): Buffer[] => [...bytes].map((b) => Buffer.from([b]));

describe.each([2, 3] as const)('ReplyWriter and ReplyParser in RESP%i', (protocol) => {
  it('round-trip any value, the bytes split anywhere, or fed one at a time', () => {
    fc.assert(
      fc.property(fc.array(respValue, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (values, cuts) => {
        const writer = new ReplyWriter(protocol);
        for (const v of values) writer.write(v);
        const bytes = Buffer.from(writer.take()!);
        const expected = values.map((v) => asReceived(v, protocol));
        for (const chunks of [splitAt(bytes, cuts), oneByteAtATime(bytes)]) {
          const { values: received, parser } = readReplies(chunks);
          expect(received).toEqual(expected);
          expect(parser.bufferedBytes).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands out each batch once, and earlier batches stay intact while later ones are written', () => {
    fc.assert(
      fc.property(fc.array(fc.array(respValue, { maxLength: 5 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const writer = new ReplyWriter(protocol);
        const taken: Buffer[] = [];
        for (const batch of batches) {
          for (const v of batch) writer.write(v);
          const bytes = writer.take();
          if (batch.length === 0) expect(bytes).toBeNull();
          else taken.push(bytes!);
        }
        const parser = new ReplyParser();
        parser.feed(Buffer.concat(taken));
        const received: RespValue[] = [];
        for (let v = parser.next(); v !== undefined; v = parser.next()) received.push(v);
        expect(received).toEqual(batches.flat().map((v) => asReceived(v, protocol)));
      }),
    );
  });
});

describe('ReplyWriter shapes', () => {
  it.each<[RespValue, string, string]>([
    [NULL_BULK, '$-1\r\n', '_\r\n'],
    [NULL_ARRAY, '*-1\r\n', '_\r\n'],
    [map([[bulk('a'), integer(1)]]), '*2\r\n$1\r\na\r\n:1\r\n', '%1\r\n$1\r\na\r\n:1\r\n'],
    [set([simple('x')]), '*1\r\n+x\r\n', '~1\r\n+x\r\n'],
    [push([bulk('m')]), '*1\r\n$1\r\nm\r\n', '>1\r\n$1\r\nm\r\n'],
    [double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    [double(3), '$1\r\n3\r\n', ',3\r\n'],
    [double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
    [double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    [boolean(true), ':1\r\n', '#t\r\n'],
    [verbatim('hi'), '$2\r\nhi\r\n', '=6\r\ntxt:hi\r\n'],
    [integer(-42), ':-42\r\n', ':-42\r\n'],
    [error('ERR x'), '-ERR x\r\n', '-ERR x\r\n'],
  ])('%# is %j in RESP2', (value, resp2, resp3) => {
    const bytesIn = (protocol: ProtocolVersion) => {
      const writer = new ReplyWriter(protocol);
      writer.write(value);
      return writer.take()!.toString('latin1');
    };
    expect(bytesIn(2)).toBe(resp2);
    expect(bytesIn(3)).toBe(resp3);
  });

  it('writes 64-bit integers beyond 2^53 exactly', () => {
    const writer = new ReplyWriter(2);
    writer.write(integer(2n ** 63n - 1n));
    expect(writer.take()!.toString('latin1')).toBe(':9223372036854775807\r\n');
  });
});

// ---------------------------------------------------------------------------------------
// ReplyParser on its own: every type a server sends, cut at every byte

/** Every reply type, as Redis 7 writes it in RESP2 and RESP3, and what the parser makes of it. */
const EVERY_TYPE: Array<[bytes: string, value: RespValue]> = [
  ['+OK\r\n', simple('OK')],
  ['-ERR unknown command\r\n', error('ERR unknown command')],
  [':42\r\n', integer(42)],
  [':-9223372036854775808\r\n', integer(-(2n ** 63n))],
  ['(3492890328409238509324850943850943825024385\r\n', integer(3492890328409238509324850943850943825024385n)],
  ['$5\r\na\r\nbc\r\n', bulk('a\r\nbc')], // the length, not a CR LF, says where a payload ends
  ['$0\r\n\r\n', bulk('')],
  ['$-1\r\n', NULL_BULK],
  ['*-1\r\n', NULL_ARRAY],
  ['_\r\n', NULL_BULK],
  // A double keeps its digits as sent, for clients that print them as they came (redis-cli).
  [',3.25\r\n', { type: 'double', value: 3.25, text: '3.25' }],
  [',-inf\r\n', { type: 'double', value: -Infinity, text: '-inf' }],
  [',nan\r\n', { type: 'double', value: NaN, text: 'nan' }],
  ['#t\r\n', boolean(true)],
  ['#f\r\n', boolean(false)],
  ['=7\r\ntxt:abc\r\n', verbatim('abc', 'txt')],
  ['!9\r\nERR blob!\r\n', error('ERR blob!')],
  ['*0\r\n', array([])],
  ['*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n_\r\n', array([integer(1), array([simple('a'), bulk('b')]), NULL_BULK])],
  ['%2\r\n+k\r\n:1\r\n$2\r\nk2\r\n*1\r\n#f\r\n', map([[simple('k'), integer(1)], [bulk('k2'), array([boolean(false)])]])],
  ['~2\r\n+x\r\n:2\r\n', set([simple('x'), integer(2)])],
  ['>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n', push([bulk('message'), bulk('ch'), bulk('hi')])],
  ['*1\r\n*1\r\n*0\r\n', array([array([array([])])])],
  ['+a bare LF ends a line too\n', simple('a bare LF ends a line too')],
];

describe('ReplyParser reads every reply type, however the bytes are cut', () => {
  const stream = Buffer.from(EVERY_TYPE.map(([bytes]) => bytes).join(''), 'latin1');
  const expected = EVERY_TYPE.map(([, value]) => value);

  it('in two pieces, cut at every byte', () => {
    for (let at = 0; at <= stream.length; at++) {
      const { values, parser } = readReplies([stream.subarray(0, at), stream.subarray(at)]);
      expect(values, `cut at byte ${at}`).toEqual(expected);
      expect(parser.bufferedBytes).toBe(0);
    }
  });

  it('one byte at a time: each value comes out with its last byte, and what is held is counted', () => {
    let end = 0;
    const ends = EVERY_TYPE.map(([bytes]) => (end += bytes.length));
    const parser = new ReplyParser();
    const cameOutAt: number[] = [];
    for (let fed = 1; fed <= stream.length; fed++) {
      parser.feed(stream.subarray(fed - 1, fed));
      for (let v = parser.next(); v !== undefined; v = parser.next()) {
        expect(v).toEqual(expected[cameOutAt.length]);
        cameOutAt.push(fed);
      }
      expect(parser.bufferedBytes, 'bytes fed since the last value returned').toBe(fed - (cameOutAt.at(-1) ?? 0));
    }
    expect(cameOutAt).toEqual(ends);
  });

  it.each([
    ['?what\r\n', "unexpected reply type '?'"],
    ['$x\r\n', "invalid bulk length 'x'"],
    ['*-2\r\n', "invalid aggregate length '-2'"],
  ])('refuses %j, and keeps refusing', (bytes, reason) => {
    const parser = new ReplyParser();
    parser.feed(Buffer.from(`+OK\r\n*2\r\n:1\r\n${bytes}`, 'latin1'));
    expect(parser.next()).toEqual(simple('OK'));
    expect(() => parser.next()).toThrow(ProtocolError);
    parser.feed(Buffer.from('+OK\r\n', 'latin1'));
    expect(() => parser.next()).toThrow(`Protocol error: ${reason}`);
  });
});

// Work that grows faster than the input would let one client stall every other: these
// count allocations and copies (never time) for inputs far larger than a read or a chunk.
describe('cost stays linear in the size of a batch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a pipelined batch of 100,000 replies grows the reply buffer a handful of times, not per reply', () => {
    const writer = new ReplyWriter(2);
    const allocateUnsafe = Buffer.allocUnsafe;
    let allocations = 0;
    Buffer.allocUnsafe = (size: number) => {
      allocations++;
      return allocateUnsafe(size);
    };
    try {
      for (let i = 0; i < 100_000 && allocations < 14; i++) writer.write(bulk(`value-${i}`));
    } finally {
      Buffer.allocUnsafe = allocateUnsafe;
    }
    // 1.5 MB from a first chunk of 2 KB: about log2(750) = 10 doublings, not 100,000 growths.
    expect(allocations, 'the buffer must grow by doubling, not by the size of each reply').toBeLessThan(14);
    expect(writer.take()!.length).toBeGreaterThan(1_500_000);
  });

  it('a quiet connection keeps a small chunk, and lets go of one grown for a huge batch', () => {
    const writer = new ReplyWriter(2);
    const sizes: number[] = [];
    const allocateUnsafe = Buffer.allocUnsafe;
    Buffer.allocUnsafe = (size: number) => {
      sizes.push(size);
      return allocateUnsafe(size);
    };
    try {
      writer.write(bulk('subscribed'));
      writer.take();
      expect(sizes, 'a first small reply takes a small chunk').toEqual([2048]);
      for (let i = 0; i < 20_000; i++) writer.write(bulk(`value-${i}`));
      writer.take();
      sizes.length = 0;
      writer.write(bulk('quiet again'));
      writer.take();
      expect(sizes, 'after a huge batch, the next reply starts a new, ordinary chunk').toEqual([64 * 1024]);
    } finally {
      Buffer.allocUnsafe = allocateUnsafe;
    }
  });

  /**
   * Feeds `bytes` to a ReplyParser in reads of `size`, as a socket delivers them, taking every
   * value; counts the bytes joins copy and the bytes decoded into strings, and gives up once
   * the copies pass `copyLimit` (a quadratic reader would take many seconds to finish).
   */
  function readCounting(bytes: Buffer, size: number, copyLimit: number): { values: RespValue[]; copied: number; decoded: number } {
    let copied = 0;
    let decoded = 0;
    const concat = Buffer.concat;
    vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
      const joined = concat(list, length);
      copied += joined.length;
      return joined;
    });
    // The native latin1Slice that lib/resp.ts calls to turn bytes into a string.
    const natives = Buffer.prototype as unknown as { latin1Slice(start: number, end: number): string };
    const latin1Slice = natives.latin1Slice;
    vi.spyOn(natives, 'latin1Slice').mockImplementation(function (this: Buffer, start: number, end: number) {
      decoded += Math.max(0, end - start);
      return latin1Slice.call(this, start, end);
    });
    const parser = new ReplyParser();
    const values: RespValue[] = [];
    for (let at = 0; at < bytes.length && copied <= copyLimit; at += size) {
      parser.feed(bytes.subarray(at, at + size));
      for (let v = parser.next(); v !== undefined; v = parser.next()) values.push(v);
    }
    return { values, copied, decoded };
  }

  it('a 32 MB bulk reply read in 64 KiB reads is joined once, and decoded once', () => {
    const payload = 'x'.repeat(32 * 1024 * 1024);
    const bytes = Buffer.from(`$${payload.length}\r\n${payload}\r\n`, 'latin1');
    const { values, copied, decoded } = readCounting(bytes, 64 * 1024, 2 * bytes.length);
    expect(copied, 'joining the unread tail onto every read copies about 8 GB').toBeLessThanOrEqual(bytes.length);
    expect(decoded).toBeLessThanOrEqual(bytes.length);
    expect(values).toHaveLength(1);
    expect(values[0]).toEqual(bulk(payload));
  });

  it('an array of 50,000 bulk strings read in 64 KiB reads is parsed once, not again from its start on every read', () => {
    const items = Array.from({ length: 50_000 }, (_, i) => `member:${i}`);
    const bytes = encode(bulks(items));
    const { values, copied, decoded } = readCounting(bytes, 64 * 1024, 4 * bytes.length);
    expect(decoded, 'items already read must not be decoded again').toBeLessThanOrEqual(bytes.length);
    expect(copied, 'only a read that finishes an item is joined, with the few bytes before it').toBeLessThan(2 * bytes.length);
    expect(values).toEqual([bulks(items)]);
  });
});
