// lib/resp.ts by property: whatever valid stream of requests arrives, split wherever the
// network splits it, parses to the same requests; garbage never escapes the parser as
// anything but a protocol error; replies survive a round trip through the encoder and the
// client-side parser in both RESP2 and RESP3. Plus a table of Redis's inline splitting.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LIMITS, NULL_ARRAY, NULL_BULK, ProtocolError, QueryBufferLimitError, ReplyParser, ReplyWriter, RequestParser,
  array, boolean, bulk, double, encodeCommand, error, formatDouble, integer, map, push, set, simple,
  splitInlineArgs, verbatim, type ProtocolVersion, type RespValue,
} from './resp.ts';
import { applyMutations, splitAt, type ByteMutation } from '../test/helpers/bytes.ts';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');

// ---------------------------------------------------------------------------------------
// Generators

/** Any bytes, usually short, sometimes long enough to span many chunks. */
const binaryString = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }).map(latin1) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 5000 }).map(latin1) },
);

/** Bytes an unquoted inline word may hold: no blanks, no quotes, no NUL. */
const WORD_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).filter(
  (c) => !' \t\n\r\v\f"\'\x00'.includes(c),
);
const inlineWord = fc.string({ unit: fc.constantFrom(...WORD_BYTES), minLength: 1, maxLength: 12 });

interface Request {
  bytes: string;
  /** What the parser must return for it; null for a request that yields nothing. */
  args: string[] | null;
}

const multibulk: fc.Arbitrary<Request> = fc
  .array(binaryString, { minLength: 1, maxLength: 6 })
  .map((args) => ({ bytes: encodeCommand(args).toString('latin1'), args }));

const inline: fc.Arbitrary<Request> = fc
  .tuple(fc.array(inlineWord, { minLength: 1, maxLength: 5 }), fc.constantFrom(' ', '  ', '\t'), fc.constantFrom('\r\n', '\n'))
  .filter(([words]) => !words[0]!.startsWith('*')) // a leading '*' makes it a multibulk
  .map(([words, gap, end]) => ({ bytes: words.join(gap) + end, args: words }));

/** Requests Redis skips without a reply. */
const empty: fc.Arbitrary<Request> = fc.constantFrom('\r\n', '\n', '   \r\n', '*0\r\n', '*-1\r\n').map((bytes) => ({ bytes, args: null }));

const requestStream = fc.array(fc.oneof({ weight: 5, arbitrary: multibulk }, { weight: 3, arbitrary: inline }, { weight: 1, arbitrary: empty }), {
  minLength: 1,
  maxLength: 20,
});


// ---------------------------------------------------------------------------------------
// Driving the parser as a server does

interface Outcome {
  requests: string[][];
  error?: Error;
}

/** Feeds the chunks one by one, taking every complete request after each, as onData does. */
function parseChunks(chunks: Buffer[]): Outcome {
  const parser = new RequestParser();
  const requests: string[][] = [];
  let fed = 0;
  for (const chunk of chunks) {
    parser.feed(chunk);
    fed += chunk.length;
    try {
      for (let request = parser.next(); request !== null; request = parser.next()) {
        requests.push(request);
        // Every request consumes at least one byte, so this bounds the loop.
        if (requests.length > fed) throw new Error(`parser returned ${requests.length} requests from ${fed} bytes`);
      }
    } catch (err) {
      if (err instanceof ProtocolError || err instanceof QueryBufferLimitError) return { requests, error: err };
      throw err;
    }
    expect(parser.bufferedBytes).toBeGreaterThanOrEqual(0);
    expect(parser.bufferedBytes).toBeLessThanOrEqual(fed);
  }
  return { requests };
}

// ---------------------------------------------------------------------------------------
// RequestParser

describe('RequestParser', () => {
  it('parses any valid stream the same, however it is split', () => {
    fc.assert(
      fc.property(requestStream, fc.array(fc.nat(), { maxLength: 30 }), (stream, cuts) => {
        const bytes = bytesOf(stream.map((r) => r.bytes).join(''));
        const expected = stream.flatMap((r) => (r.args === null ? [] : [r.args]));
        const outcome = parseChunks(splitAt(bytes, cuts));
        expect(outcome.error).toBeUndefined();
        expect(outcome.requests).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('parses a stream fed one byte at a time, and split at every single byte', () => {
    const stream = encodeCommand(['SET', 'k\r\n', 'v\x00\xff']).toString('latin1') + 'PING\r\n' + 'ECHO "a b"\n' + encodeCommand(['GET', '']).toString('latin1');
    const expected = [['SET', 'k\r\n', 'v\x00\xff'], ['PING'], ['ECHO', 'a b'], ['GET', '']];
    const bytes = bytesOf(stream);
    expect(parseChunks([...bytes].map((b) => Buffer.from([b]))).requests).toEqual(expected);
    for (let at = 0; at <= bytes.length; at++) {
      expect(parseChunks([bytes.subarray(0, at), bytes.subarray(at)]).requests).toEqual(expected);
    }
  });

  it('holds no bytes once every request is taken', () => {
    fc.assert(
      fc.property(requestStream, fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        const parser = new RequestParser();
        for (const chunk of splitAt(bytesOf(stream.map((r) => r.bytes).join('')), cuts)) {
          parser.feed(chunk);
          while (parser.next() !== null);
        }
        expect(parser.bufferedBytes).toBe(0);
      }),
    );
  });

  it('never throws anything but a protocol error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        parseChunks(splitAt(Buffer.from(bytes), cuts));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a protocol error on mutated valid streams', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom<ByteMutation['kind']>('flip', 'insert', 'delete', 'truncate'),
      byte: fc.constantFrom(0, 13, 10, 36, 42, 45, 48, 49, 57, 34, 39, 92, 32, 255),
    });
    fc.assert(
      fc.property(requestStream, fc.array(mutation, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (stream, mutations, cuts) => {
        parseChunks(splitAt(applyMutations(bytesOf(stream.map((r) => r.bytes).join('')), mutations), cuts));
      }),
      { numRuns: 500 },
    );
  });

  it('waits for a large bulk without copying it on every chunk, and never holds more than it was fed', () => {
    const payload = 'x'.repeat(1_000_000);
    const bytes = encodeCommand(['SET', 'k', payload]);
    const parser = new RequestParser();
    let fed = 0;
    for (let at = 0; at < bytes.length; at += 16 * 1024) {
      const chunk = bytes.subarray(at, at + 16 * 1024);
      parser.feed(chunk);
      fed += chunk.length;
      const request = parser.next();
      expect(parser.bufferedBytes).toBeLessThanOrEqual(fed);
      if (at + 16 * 1024 < bytes.length) expect(request).toBeNull();
      else expect(request).toEqual(['SET', 'k', payload]);
    }
  });

  it('accepts a declared 512 MB bulk without allocating it up front', () => {
    const parser = new RequestParser();
    parser.feed(bytesOf(`*2\r\n$3\r\nSET\r\n$${LIMITS.maxBulkBytes}\r\n`));
    expect(parser.next()).toBeNull();
    expect(parser.bufferedBytes).toBe(0);
  });

  describe('limits, as Redis words them', () => {
    const errorOf = (bytes: string, chunkSize = 4096): string | undefined => {
      const chunks = splitAt(bytesOf(bytes), Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, i) => i * chunkSize));
      return parseChunks(chunks).error?.message;
    };
    const big = LIMITS.maxInlineBytes + 1;

    it.each([
      ['too big inline request', 'x'.repeat(big)],
      ['too big mbulk count string', '*' + '1'.repeat(big)],
      ['too big bulk count string', '*1\r\n$' + '1'.repeat(big)],
      ['invalid bulk length', `*1\r\n$${LIMITS.maxBulkBytes + 1}\r\n`],
      ['invalid multibulk length', `*${LIMITS.maxMultibulkLength + 1}\r\n`],
    ])('%s', (reason, bytes) => {
      expect(errorOf(bytes)).toBe(`Protocol error: ${reason}`);
      expect(errorOf(bytes, bytes.length)).toBe(`Protocol error: ${reason}`);
    });

    it('allows a line of exactly 64 KiB', () => {
      expect(errorOf('x'.repeat(LIMITS.maxInlineBytes))).toBeUndefined();
    });

    it('accepts an inline line longer than 64 KiB when its newline arrives in the same read', () => {
      const line = `ECHO ${'y'.repeat(LIMITS.maxInlineBytes)}\r\n`;
      expect(parseChunks([bytesOf(line)]).requests).toEqual([['ECHO', 'y'.repeat(LIMITS.maxInlineBytes)]]);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Inline splitting: Redis's sdssplitargs

describe('splitInlineArgs splits as Redis sdssplitargs does', () => {
  it.each<[string, string[] | null]>([
    ['', []],
    ['   ', []],
    ['PING', ['PING']],
    ['SET k v', ['SET', 'k', 'v']],
    ['  SET   k\tv  ', ['SET', 'k', 'v']],
    ['\vSET\fk', ['SET\fk']], // \v and \f separate words only before one starts
    ['a\vb c', ['a\vb', 'c']],
    ['"hello world"', ['hello world']],
    ['""', ['']],
    ["''", ['']],
    ['"a" "b"', ['a', 'b']],
    ['a"b c"d', null], // a quote inside a word opens; the closing quote needs a blank after it
    ['a"b c"', ['ab c']],
    ['"\\x41\\x4a"', ['AJ']],
    ['"\\x4"', ['x4']], // not two hex digits: \x is just x
    ['"\\xZZ"', ['xZZ']],
    ['"\\n\\r\\t\\b\\a"', ['\n\r\t\b\x07']],
    ['"\\q\\"\\\\"', ['q"\\']],
    ["'it\\'s'", ["it's"]],
    ["'a\\nb'", ['a\\nb']], // single quotes keep backslashes
    ["'a\"b'", ['a"b']],
    ['"a\'b"', ["a'b"]],
    ['"abc', null],
    ["'abc", null],
    ['"abc"def', null],
    ["'abc'def", null],
    ['"abc"\tdef', ['abc', 'def']],
    ['"abc\\"', null],
    ['\\x41', ['\\x41']], // escapes mean nothing outside double quotes
    ['caf\xe9 \xff', ['caf\xe9', '\xff']],
  ])('%j', (line, expected) => {
    expect(splitInlineArgs(line)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------
// Replies: ReplyWriter, then ReplyParser

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

describe.each([2, 3] as const)('ReplyWriter and ReplyParser in RESP%i', (protocol) => {
  it('round-trip any value, the bytes split anywhere', () => {
    fc.assert(
      fc.property(fc.array(respValue, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (values, cuts) => {
        const writer = new ReplyWriter(protocol);
        for (const v of values) writer.write(v);
        const bytes = Buffer.from(writer.take()!);
        const parser = new ReplyParser();
        const received: RespValue[] = [];
        for (const chunk of splitAt(bytes, cuts)) {
          parser.feed(chunk);
          for (let v = parser.next(); v !== undefined; v = parser.next()) received.push(v);
        }
        expect(received).toEqual(values.map((v) => asReceived(v, protocol)));
        expect(parser.bufferedBytes).toBe(0);
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

  it('a 60 KB inline command split across two reads is joined once', () => {
    const line = Buffer.from(`SET k ${'x'.repeat(60_000)}\r\n`, 'latin1');
    const parser = new RequestParser();
    const joins = vi.spyOn(Buffer, 'concat');
    parser.feed(line.subarray(0, 30_000));
    expect(parser.next()).toBeNull();
    parser.feed(line.subarray(30_000));
    expect(parser.next()?.[2]?.length).toBe(60_000);
    expect(joins.mock.calls.length).toBe(1);
  });

  it('an inline command full of CRs split across two reads is joined once too', () => {
    // A CR is an ordinary byte inside an inline line (only LF ends it): joining up to each
    // CR in turn would copy the line once per CR, 30,000 times here.
    const line = Buffer.from(`ECHO ${'a\r'.repeat(30_000)}\n`, 'latin1');
    const parser = new RequestParser();
    const joins = vi.spyOn(Buffer, 'concat');
    parser.feed(line.subarray(0, 30_000));
    expect(parser.next()).toBeNull();
    parser.feed(line.subarray(30_000));
    expect(parser.next()?.length).toBe(30_001);
    expect(joins.mock.calls.length).toBe(1);
  });
});
