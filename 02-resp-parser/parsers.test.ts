// Two request parsers, one set of answers: this step's teaching parser (./resp.ts) and the
// tuned one in lib/resp-request.ts that steps 03 on use. Both get the same random streams
// (valid, malformed, mutated, over Redis's limits), cut into the same random chunks, and
// must return the same requests after the same chunk and fail with the same error at the
// same point. The encoders (./resp.ts and lib/resp-reply.ts) must write the same bytes for
// any reply.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tuned from '../lib/resp-request.ts';
import * as values from '../lib/resp.ts';
import * as tunedReply from '../lib/resp-reply.ts';
import * as teaching from './resp.ts';
import { applyMutations, splitAt, type ByteMutation } from '../test/helpers/bytes.ts';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');
const INLINE_LIMIT = teaching.LIMITS.maxInlineBytes;

// ---------------------------------------------------------------------------------------
// Driving a parser as the server does: feed a chunk, take every complete request

interface Implementation {
  RequestParser: new () => { feed(chunk: Buffer): void; next(): string[] | null };
  ProtocolError: new (reason: string) => Error;
  QueryBufferLimitError: new (message?: string) => Error;
}

interface Outcome {
  /** Each request, with the index of the chunk after which it came out. */
  requests: Array<[chunk: number, args: string[]]>;
  error?: [chunk: number, what: string];
}

function parse(impl: Implementation, chunks: Buffer[]): Outcome {
  const parser = new impl.RequestParser();
  const outcome: Outcome = { requests: [] };
  for (const [i, chunk] of chunks.entries()) {
    parser.feed(chunk);
    try {
      for (let request = parser.next(); request !== null; request = parser.next()) outcome.requests.push([i, request]);
    } catch (err) {
      if (err instanceof impl.ProtocolError) outcome.error = [i, err.message];
      else if (err instanceof impl.QueryBufferLimitError) outcome.error = [i, 'query buffer limit'];
      else throw err;
      return outcome;
    }
  }
  return outcome;
}

/** Parses with both, asserts they agree, and returns the (common) outcome. */
function parseWithBoth(chunks: Buffer[]): Outcome {
  const ours = parse(teaching, chunks);
  expect(ours, 'step 02 and lib/resp-request.ts must answer the same').toEqual(parse(tuned, chunks));
  return ours;
}


const cuts = fc.array(fc.nat(), { maxLength: 30 });

// ---------------------------------------------------------------------------------------
// Generators. Each element is the bytes of one request and, for a valid one, the arguments
// it must parse to ([] for an empty request, which is skipped).

interface Element {
  bytes: string;
  args: string[] | null; // null: malformed, no expectation of its own
}

const argument = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 30 }).map(latin1) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 2000 }).map(latin1) },
);

const encodeMultibulk = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;

const multibulk: fc.Arbitrary<Element> = fc.array(argument, { minLength: 1, maxLength: 6 }).map((args) => ({ bytes: encodeMultibulk(args), args }));

const BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));
const except = (excluded: string) => BYTES.filter((c) => !excluded.includes(c));

/** Pieces of an inline word, each as [what is typed, what it means]. */
type Piece = [typed: string, meaning: string];
const literal = (excluded: string) => fc.constantFrom(...except(excluded)).map((c): Piece => [c, c]);

const doubleQuoted = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: literal('"\\\n') },
      {
        weight: 2,
        arbitrary: fc.constantFrom<Piece>(['\\n', '\n'], ['\\r', '\r'], ['\\t', '\t'], ['\\b', '\b'], ['\\a', '\x07'], ['\\"', '"'], ['\\\\', '\\'], ['\\q', 'q'], ['\\ ', ' '], ['\\x4g', 'x4g'], ['\\xzz', 'xzz']),
      },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([b, upper]): Piece => [`\\x${b.toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`, String.fromCharCode(b)]) },
    ),
    { maxLength: 6 },
  )
  .map((pieces): Piece => [`"${pieces.map((p) => p[0]).join('')}"`, pieces.map((p) => p[1]).join('')]);

const singleQuoted = fc
  .array(fc.oneof({ weight: 4, arbitrary: literal("'\\\n") }, { weight: 1, arbitrary: fc.constantFrom<Piece>(["\\'", "'"], ['\\n', '\\n'], ['\\"', '\\"']) }), { maxLength: 6 })
  .map((pieces): Piece => [`'${pieces.map((p) => p[0]).join('')}'`, pieces.map((p) => p[1]).join('')]);

/** An unquoted word: no blanks, no quotes. */
const bare = fc.array(literal(' \t\n\r\v\f"\''), { minLength: 1, maxLength: 8 }).map((pieces): Piece => [pieces.map((p) => p[0]).join(''), pieces.map((p) => p[1]).join('')]);

/** A word: bare, quoted, or bare with a quoted tail (a"b c" is one word, "ab c"). */
const word = fc.oneof(
  { weight: 3, arbitrary: bare },
  { weight: 2, arbitrary: doubleQuoted },
  { weight: 1, arbitrary: singleQuoted },
  { weight: 1, arbitrary: fc.tuple(bare, fc.oneof(doubleQuoted, singleQuoted)).map(([b, q]): Piece => [b[0] + q[0], b[1] + q[1]]) },
);

/** Space, tab or CR end a word; \v and \f only count as blanks once a word has ended. */
const gap = fc.tuple(fc.constantFrom(' ', '\t', '\r', '  '), fc.constantFrom('', ' ', '\v', '\f', '\t'));

const inline: fc.Arbitrary<Element> = fc
  .tuple(fc.constantFrom('', ' ', '\v\f', '\t'), fc.array(fc.tuple(word, gap), { minLength: 1, maxLength: 5 }), fc.constantFrom('\r\n', '\n'))
  .map(([lead, words, end]) => ({
    bytes: lead + words.map(([[typed], [g1, g2]], i) => typed + (i < words.length - 1 ? g1 + g2 : '')).join('') + end,
    args: words.map(([[, meaning]]) => meaning),
  }))
  .filter((e) => !e.bytes.startsWith('*')); // a leading '*' would make it a multibulk

/** Requests Redis skips without a reply. */
const empty: fc.Arbitrary<Element> = fc
  .constantFrom('\r\n', '\n', '   \r\n', '\t\v\f\n', '*0\r\n', '*-1\r\n', '*-42\r\n')
  .map((bytes) => ({ bytes, args: [] }));

/** A multibulk with one thing wrong in it, as a buggy client or a stray byte would make it. */
const brokenMultibulk: fc.Arbitrary<Element> = fc
  .tuple(fc.array(argument, { minLength: 1, maxLength: 4 }), fc.nat(), fc.constantFrom('count', 'length', 'no-dollar', 'lf-only', 'short', 'long'), fc.constantFrom('x', '+1', '01', '-0', '', ' 1', '-1', '2147483648', '536870913', '99999999999999999999', '-1000000000000000000'))
  .map(([args, which, kind, junk]) => {
    const at = which % args.length;
    const header = (a: string, i: number) => {
      if (i !== at) return `$${a.length}\r\n`;
      if (kind === 'length') return `$${junk}\r\n`;
      if (kind === 'no-dollar') return `${a.length}\r\n`;
      if (kind === 'lf-only') return `$${a.length}\n`;
      if (kind === 'short') return `$${Math.max(0, a.length - 1)}\r\n`;
      if (kind === 'long') return `$${a.length + 1}\r\n`;
      return `$${a.length}\r\n`;
    };
    const count = kind === 'count' ? junk : String(args.length);
    return { bytes: `*${count}\r\n${args.map((a, i) => `${header(a, i)}${a}\r\n`).join('')}`, args: null };
  });

/** Inline lines whose quotes do not balance. */
const unbalanced: fc.Arbitrary<Element> = fc
  .tuple(fc.constantFrom('ECHO "abc', "ECHO 'abc", 'ECHO "abc"def', "ECHO 'a'b", 'SET k "v\\"', 'a"b c"d', '"', "'", '""x'), fc.constantFrom('\r\n', '\n'))
  .map(([line, end]) => ({ bytes: line + end, args: null }));

const validElement = fc.oneof({ weight: 5, arbitrary: multibulk }, { weight: 4, arbitrary: inline }, { weight: 1, arbitrary: empty });
const anyElement = fc.oneof({ weight: 8, arbitrary: validElement }, { weight: 1, arbitrary: brokenMultibulk }, { weight: 1, arbitrary: unbalanced });

const join = (stream: Element[]) => stream.map((e) => e.bytes).join('');

/** Bytes Redis's framing cares about, for mutations. */
const INTERESTING = [0, 13, 10, 36, 42, 45, 48, 49, 57, 32, 34, 39, 92, 120, 255];
const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom<ByteMutation['kind']>('flip', 'insert', 'delete', 'truncate'),
  byte: fc.constantFrom(...INTERESTING),
});

function mutate(text: string, mutations: ByteMutation[]): string {
  return applyMutations(bytesOf(text), mutations).toString('latin1');
}

/**
 * A line near or over the 64 KiB limit, starting a request: an inline request, a '*'
 * count, or the first '$' length of a request. When it ends (`terminated`), more requests
 * may follow; whether it was too big depends on how much of it one read held. `start` is
 * where the line begins, so reads can be cut right at the limit.
 */
const longLine = fc
  .tuple(fc.constantFrom('inline', 'count', 'length'), fc.integer({ min: INLINE_LIMIT - 2, max: INLINE_LIMIT + 300 }), fc.boolean())
  .map(([kind, size, terminated]) => {
    if (kind === 'inline') return { start: 0, bytes: `ECHO ${'y'.repeat(size - 5)}` + (terminated ? '\r\n' : '') };
    if (kind === 'count') return { start: 0, bytes: '*' + '1'.repeat(size - 1) + (terminated ? '\r\n' : '') };
    return { start: 4, bytes: '*1\r\n$' + '2'.repeat(size - 1) + (terminated ? '\r\n$1\r\nx\r\n' : '') };
  });

// ---------------------------------------------------------------------------------------
// The request parsers

describe('the two request parsers answer the same', () => {
  it('on valid streams, split anywhere: the requests each element stands for', () => {
    fc.assert(
      fc.property(fc.array(validElement, { minLength: 1, maxLength: 15 }), cuts, (stream, at) => {
        const outcome = parseWithBoth(splitAt(bytesOf(join(stream)), at));
        expect(outcome.error).toBeUndefined();
        expect(outcome.requests.map(([, args]) => args)).toEqual(stream.map((e) => e.args!).filter((args) => args.length > 0));
      }),
      { numRuns: 400 },
    );
  });

  it('on streams fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(anyElement, { minLength: 1, maxLength: 5 }), (stream) => {
        const bytes = bytesOf(join(stream));
        parseWithBoth([...bytes].map((b) => Buffer.from([b])));
      }),
      { numRuns: 100 },
    );
  });

  it('on malformed streams: the same protocol error, after the same requests', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(anyElement, { minLength: 1, maxLength: 10 }), cuts, (stream, at) => {
        const outcome = parseWithBoth(splitAt(bytesOf(join(stream)), at));
        if (outcome.error) seen.add(outcome.error[1].replace(/, got .*$/s, ''));
      }),
      { numRuns: 500 },
    );
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'Protocol error: invalid multibulk length',
        'Protocol error: invalid bulk length',
        "Protocol error: expected '$'",
        'Protocol error: unbalanced quotes in request',
      ]),
    );
  });

  it('on mutated streams: flipped, inserted and deleted bytes, cut short', () => {
    fc.assert(
      fc.property(fc.array(anyElement, { minLength: 1, maxLength: 10 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), cuts, (stream, mutations, at) => {
        parseWithBoth(splitAt(bytesOf(mutate(join(stream), mutations)), at));
      }),
      { numRuns: 500 },
    );
  });

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (bytes, at) => {
        parseWithBoth(splitAt(Buffer.from(bytes), at));
      }),
      { numRuns: 300 },
    );
  });

  it('on lines near the 64 KiB limit, read in chunks of any size', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.array(validElement, { maxLength: 3 }),
        longLine,
        fc.array(validElement, { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: -2, max: 2 }),
        (before, line, after, at, nearLimit) => {
          const lineStart = join(before).length + line.start;
          const chunks = splitAt(bytesOf(join(before) + line.bytes + join(after)), [...at, lineStart + INLINE_LIMIT + nearLimit]);
          const outcome = parseWithBoth(chunks);
          seen.add(outcome.error?.[1] ?? 'no error');
        },
      ),
      { numRuns: 150 },
    );
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'no error',
        'Protocol error: too big inline request',
        'Protocol error: too big mbulk count string',
        'Protocol error: too big bulk count string',
      ]),
    );
  });

  it('on requests over the query buffer limit (made small for the test): closed at the same request', () => {
    const limits = [teaching.LIMITS, tuned.LIMITS];
    let closed = 0;
    try {
      fc.assert(
        fc.property(fc.integer({ min: 8, max: 400 }), fc.array(validElement, { minLength: 1, maxLength: 10 }), cuts, (limit, stream, at) => {
          for (const l of limits) l.maxQueryBytes = limit;
          const outcome = parseWithBoth(splitAt(bytesOf(join(stream)), at));
          if (outcome.error) {
            expect(outcome.error[1]).toBe('query buffer limit');
            closed++;
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      for (const l of limits) l.maxQueryBytes = 1024 * 1024 * 1024;
    }
    expect(closed, 'some streams must have crossed the limit').toBeGreaterThan(10);
  });

  it('on the limits as Redis words them', () => {
    for (const bytes of [`*${2 ** 31}\r\n`, `*${2 ** 31 - 1}\r\n$1\r\n`, `*1\r\n$${512 * 1024 * 1024 + 1}\r\n`, `*1\r\n$${512 * 1024 * 1024}\r\nabc`]) {
      parseWithBoth([bytesOf(bytes)]);
    }
  });

  // lib/resp-request.ts once measured a '$' line against the 64 KiB limit from where next()
  // started, not from the line's start, so a large argument followed by a '$' line that a
  // read cut short failed with "too big bulk count string". Real Redis (and step 02) wait
  // for the rest of the line and answer +OK.
  it('a large argument, then a "$" line cut by the read', () => {
    const value = 'v'.repeat(70_000);
    parseWithBoth([bytesOf(`*3\r\n$3\r\nSET\r\n$70000\r\n${value}\r\n$1`), bytesOf('\r\nk\r\n')]);
  });
});

describe('inline splitting', () => {
  it('splits any line as lib/resp-request.ts does', () => {
    const unit = fc.constantFrom(...'ab x0F"\'\\\t\r\n\v\f\x00\xff'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (line) => {
        expect(teaching.splitInlineArgs(line)).toEqual(tuned.splitInlineArgs(line));
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// The teaching parser keeps its promise about large inputs: bytes are copied a bounded
// number of times, however many reads they arrive in (counted, never timed).

describe('the teaching parser stays linear', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Feeds `bytes` in reads of `size`, as a socket delivers them; returns bytes copied by joins. */
  function copiedWhileParsing(bytes: Buffer, size: number): { copied: number; requests: string[][] } {
    const concat = Buffer.concat;
    let copied = 0;
    vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
      const joined = concat(list, length);
      copied += joined.length;
      return joined;
    });
    const parser = new teaching.RequestParser();
    const requests: string[][] = [];
    for (let at = 0; at < bytes.length; at += size) {
      parser.feed(bytes.subarray(at, at + size));
      for (let r = parser.next(); r !== null; r = parser.next()) requests.push(r);
    }
    return { copied, requests };
  }

  it('a 20 MB argument in 64 KB reads is joined once', () => {
    const value = 'x'.repeat(20 * 1024 * 1024);
    const { copied, requests } = copiedWhileParsing(bytesOf(encodeMultibulk(['SET', 'k', value])), 64 * 1024);
    expect(requests).toHaveLength(1);
    expect(requests[0]![2]!.length).toBe(value.length);
    expect(copied, 'joining on every read would copy about 3 GB').toBeLessThan(value.length * 1.1);
  });

  it('a request of 200,000 arguments in 64 KB reads is parsed once', () => {
    const args = Array.from({ length: 200_000 }, (_, i) => `member:${i}`);
    const bytes = bytesOf(encodeMultibulk(['SADD', 's', ...args]));
    const { copied, requests } = copiedWhileParsing(bytes, 64 * 1024);
    expect(requests[0]).toHaveLength(200_002);
    expect(copied, 'arguments already read are kept, not parsed again').toBeLessThan(bytes.length * 2);
  });
});

// ---------------------------------------------------------------------------------------
// The encoders

/** Text for a simple string or an error: any bytes but CR and LF. */
const lineText = fc.uint8Array({ maxLength: 20 }).map((b) => latin1(b.filter((x) => x !== 13 && x !== 10)));

// Built with lib's constructors: the replies both encoders know. The teaching encoder may
// know more (an exercise adds RESP3's big number), and these still type-check against it.
const respValue: fc.Arbitrary<values.RespValue> = fc.letrec<{ value: values.RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    lineText.map(values.simple),
    lineText.map(values.error),
    fc.integer().map((n) => values.integer(n)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => values.integer(n)),
    argument.map(values.bulk),
    fc.constant(values.NULL_BULK),
    fc.constant(values.NULL_ARRAY),
    fc.double().map(values.double),
    fc.boolean().map(values.boolean),
    fc.tuple(argument, fc.constantFrom('txt', 'mkd')).map(([text, format]) => values.verbatim(text, format)),
    fc.array(tie('value'), { maxLength: 4 }).map(values.array),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map(values.map),
    fc.array(tie('value'), { maxLength: 4 }).map(values.set),
    fc.array(tie('value'), { maxLength: 4 }).map(values.push),
  ),
})).value;

describe.each([2, 3] as const)('the two encoders write the same bytes in RESP%i', (protocol) => {
  it('for any reply', () => {
    fc.assert(
      fc.property(respValue, (value) => {
        expect(teaching.encode(value, protocol).toString('latin1')).toBe(tunedReply.encode(value, protocol).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });

  it('for batches of replies taken from a ReplyWriter', () => {
    fc.assert(
      fc.property(fc.array(fc.array(respValue, { maxLength: 4 }), { maxLength: 4 }), (batches) => {
        const ours = new teaching.ReplyWriter(protocol);
        const theirs = new tunedReply.ReplyWriter(protocol);
        for (const batch of batches) {
          for (const value of batch) {
            ours.write(value);
            theirs.write(value);
          }
          ours.error('ERR last');
          theirs.error('ERR last');
          expect(ours.take()?.toString('latin1')).toBe(theirs.take()?.toString('latin1'));
          expect(ours.take()).toBeNull();
        }
      }),
      { numRuns: 200 },
    );
  });
});
