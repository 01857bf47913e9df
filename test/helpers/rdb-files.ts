// RDB files for the codec's tests: written by our encoder with fixed aux fields (so their
// bytes are known), crafted byte by byte, and read back as events or entries.
import { crc64 } from '../../lib/crc64.ts';
import { RdbError, type RdbEntry, type RdbEvent, type RdbSnapshot } from '../../lib/rdb.ts';
import { encodeRdb, type RdbWriteOptions } from '../../lib/rdb-encoder.ts';
import { RdbDecoder, decodeRdb } from '../../lib/rdb-decoder.ts';

/** Fixed aux values, so the bytes of a file are known. */
export const FIXED: RdbWriteOptions = { ctime: 1_700_000_000, usedMemory: 1_000_000 };

export function snapshot(entries: RdbEntry[]): RdbSnapshot {
  return { entries, keys: entries.length, expires: entries.filter((e) => e.deadline !== null).length };
}

export const entry = (key: string, value: string, deadline: bigint | null = null): RdbEntry => ({ key, value, deadline });

export function encode(entries: RdbEntry[], options: RdbWriteOptions = {}): Buffer {
  return encodeRdb(snapshot(entries), { ...FIXED, ...options });
}

export function events(file: Buffer): RdbEvent[] {
  return [...decodeRdb(file)];
}

export function entriesOf(file: Buffer): RdbEntry[] {
  return events(file).flatMap((e) => (e.type === 'entry' ? [{ key: e.key, value: e.value, deadline: e.deadline }] : []));
}

/** The error decoding `file` stops with (fails the test if it loads). */
export function decodeError(file: Buffer): RdbError {
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
export function craft(version: number, ...parts: Part[]): Buffer {
  const body = Buffer.concat([bytesOf(`REDIS${String(version).padStart(4, '0')}`), ...parts.map(bytesOf)]);
  if (version < 5) return body;
  const trailer = Buffer.alloc(8);
  trailer.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, trailer]);
}

/** A raw string shorter than 64 bytes: its 6-bit length, then its bytes. */
export const str = (text: string): Buffer => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);

export const EOF = [0xff];

/** Feeds the file in the pieces given by `cuts` and collects the events. */
export function decodeInPieces(file: Buffer, cuts: number[]): RdbEvent[] {
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

export const SAMPLE: RdbEntry[] = [
  entry('greeting', 'hello world'),
  entry('n', '42'),
  entry('neg', '-70000'),
  entry('empty', ''),
  entry('', 'empty key'),
  entry('bin\x00\r\n\xff', '\x00\x01\x02\xfe\xff'),
  entry('soon', 'gone', 1_800_000_000_123n),
  entry('long', 'abc'.repeat(100), 4_000_000_000_000n),
];
