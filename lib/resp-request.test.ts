// lib/resp-request.ts by property: whatever valid stream of requests arrives, split
// wherever the network splits it, parses to the same requests; garbage never escapes the
// parser as anything but a protocol error. Plus a table of Redis's inline splitting.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LIMITS, ProtocolError, QueryBufferLimitError, RequestParser, splitInlineArgs } from './resp-request.ts';
import { encodeCommand } from './resp-reply.ts';
import { applyMutations, splitAt, type ByteMutation } from '../test/helpers/bytes.ts';
import { binaryString } from '../test/helpers/generators.ts';

const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');

// ---------------------------------------------------------------------------------------
// Generators

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

  it('counts the bytes up to the end of each request it returns, empty requests included', () => {
    fc.assert(
      fc.property(requestStream, fc.array(fc.nat(), { maxLength: 10 }), (stream, cuts) => {
        const ends: number[] = [];
        let offset = 0;
        for (const request of stream) {
          offset += request.bytes.length;
          if (request.args !== null) ends.push(offset);
        }
        const parser = new RequestParser();
        const seen: number[] = [];
        for (const chunk of splitAt(bytesOf(stream.map((r) => r.bytes).join('')), cuts)) {
          parser.feed(chunk);
          while (parser.next() !== null) seen.push(parser.consumed);
        }
        expect(seen).toEqual(ends);
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

// Work that grows faster than the input would let one client stall every other: these
// count copies (never time) for inputs far larger than a read.
describe('cost stays linear in the size of a request', () => {
  afterEach(() => vi.restoreAllMocks());

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
