// Parser throughput: lib/resp-request.ts's RequestParser against the `redis-parser` package (the
// parser ioredis and the old node_redis use), on the same bytes, delivered in the chunk
// sizes a socket hands to a 'data' handler.
//
// The stream is what redis-benchmark sends with -t set,get: arrays of bulk strings, SET
// key:000000012345 <value> then GET key:000000012345. redis-parser reads replies, but an
// array of bulk strings is a valid reply too, so both parse exactly the same bytes.
// redis-parser decodes strings as UTF-8 and ours as latin1; the payloads are ASCII, so
// both do the same work per byte.
//
//   make bench-parser                      (or: node --import tsx tools/bench-parser.ts)
//   node --import tsx tools/bench-parser.ts --commands 50000 --rounds 3
import { createRequire } from 'node:module';
import { integerFlag, parseFlags } from '../lib/cli.ts';
import { RequestParser } from '../lib/resp-request.ts';
import { encodeCommand } from '../lib/resp-reply.ts';

interface RedisParserOptions {
  returnReply(reply: unknown): void;
  returnError(error: Error): void;
  returnFatalError?(error: Error): void;
}
type RedisParserClass = new (options: RedisParserOptions) => { execute(chunk: Buffer): void };
const RedisParser = createRequire(import.meta.url)('redis-parser') as RedisParserClass;

const FLAGS = {
  commands: integerFlag(200_000, 1, 10_000_000),
  rounds: integerFlag(7, 1, 100),
};

/** A pipelined SET/GET stream, `commands` commands long, with values of `valueBytes`. */
function benchmarkStream(commands: number, valueBytes: number): Buffer {
  const value = 'x'.repeat(valueBytes);
  const parts: Buffer[] = [];
  for (let i = 0; i < commands; i++) {
    const key = `key:${String((i * 7919) % 100_000).padStart(12, '0')}`;
    parts.push(encodeCommand(i % 2 === 0 ? ['SET', key, value] : ['GET', key]));
  }
  return Buffer.concat(parts);
}

function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

type Parse = (chunks: Buffer[]) => number;

/** Ours, driven as a server's onData drives it: feed a chunk, take every request. */
const parseWithOurs: Parse = (chunks) => {
  const parser = new RequestParser();
  let parsed = 0;
  for (const chunk of chunks) {
    parser.feed(chunk);
    while (parser.next() !== null) parsed++;
  }
  return parsed;
};

const parseWithRedisParser: Parse = (chunks) => {
  let parsed = 0;
  const parser = new RedisParser({
    returnReply: () => parsed++,
    returnError: (err) => {
      throw err;
    },
  });
  for (const chunk of chunks) parser.execute(chunk);
  return parsed;
};

/** Commands per second for one run of `parse` over the chunks. */
function timeOnce(parse: Parse, chunks: Buffer[], commands: number): number {
  const started = process.hrtime.bigint();
  const parsed = parse(chunks);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (parsed !== commands) throw new Error(`parsed ${parsed} commands, expected ${commands}`);
  return commands / seconds;
}

/**
 * The best of `rounds` runs of each, in commands per second. The two parsers take turns,
 * so a busy neighbour on a shared machine slows both alike; the best run has the least noise.
 */
function compare(chunks: Buffer[], commands: number, rounds: number): { ours: number; theirs: number } {
  let ours = 0;
  let theirs = 0;
  for (let round = 0; round < rounds; round++) {
    ours = Math.max(ours, timeOnce(parseWithOurs, chunks, commands));
    theirs = Math.max(theirs, timeOnce(parseWithRedisParser, chunks, commands));
  }
  return { ours, theirs };
}

const format = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);

function main(): void {
  const { commands, rounds } = parseFlags(process.argv.slice(2), FLAGS);
  console.log(`Parsing ${commands.toLocaleString('en-US')} pipelined SET/GET commands, best of ${rounds} rounds (commands/s)\n`);
  console.log(`${'stream'.padEnd(26)}${'lib/resp-request.ts'.padStart(20)}${'redis-parser'.padStart(14)}   ratio`);
  const ratios: number[] = [];
  for (const valueBytes of [3, 1024]) {
    const stream = benchmarkStream(commands, valueBytes);
    for (const chunkSize of [16 * 1024, 64 * 1024]) {
      const chunks = chunksOf(stream, chunkSize);
      // Warm both up first, so neither pays for the JIT inside the measurement.
      parseWithOurs(chunks);
      parseWithRedisParser(chunks);
      const { ours, theirs } = compare(chunks, commands, rounds);
      ratios.push(ours / theirs);
      const label = `${valueBytes} B values, ${chunkSize / 1024} KB reads`;
      console.log(`${label.padEnd(26)}        ${format(ours)}  ${format(theirs)}   ${(ours / theirs).toFixed(2)}x`);
    }
  }
  const geometricMean = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
  console.log(`\nlib/resp-request.ts is ${geometricMean.toFixed(2)}x redis-parser (geometric mean; goal: at least 1.2x)`);
}

main();
