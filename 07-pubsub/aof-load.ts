// 05: replaying the append-only file at start (Redis's loadSingleAppendOnlyFile). The file
// is read back through the same RequestParser the network uses, and each command runs
// through the command table as a client's would, with one difference: nothing it changes is
// propagated (that would append the file to itself).
//
// What a crash can leave, and what happens to it:
// - half a command at the end (the write was cut short): dropped, with a warning, and the
//   file truncated before it (Redis's aof-load-truncated yes);
// - a MULTI ... EXEC block without its EXEC at the end (cut short, or its last command
//   torn): the whole block is dropped, so no transaction is ever loaded in part;
// - anything else out of place (garbage, a damaged length, MULTI inside MULTI, EXEC without
//   MULTI) is damage, not a crash: the start stops, naming the byte offset.
import fs from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../lib/log.ts';
import type { RespValue } from '../lib/resp.ts';
import { ProtocolError, RequestParser } from '../lib/resp-request.ts';
import { encodeCommand } from '../lib/resp-reply.ts';

/** The file is damaged before its end: the server must not start on a partial dataset. */
export class AofLoadError extends Error {}

export interface LoadReport {
  /** Commands replayed (MULTI and EXEC included; not those of a transaction dropped whole). */
  commands: number;
  /** Bytes of the file that hold whole commands and whole transactions (after any truncation). */
  bytes: number;
  /** Bytes of a torn tail (half a command, or a transaction without EXEC) that were cut off. */
  truncatedBytes: number;
}

export interface Replayer {
  /** Runs one command from the file; the reply only says whether it failed. */
  run(args: string[]): RespValue;
  isCommand(name: string): boolean;
  /** Cuts the file to `length` bytes: the torn tail goes before anything is appended. */
  truncate(length: number): void;
}

const STAR = 0x2a; // '*': a command
const HASH = 0x23; // '#': an annotation line Redis may write (#TS:...), skipped

/**
 * Replays the AOF at `path`. Returns null when there is nothing to replay yet (no file, or
 * the empty one a first start creates). Throws AofLoadError, naming the byte offset, when
 * anything but the tail is damaged.
 */
export function loadAof(path: string, replayer: Replayer, log: Logger): LoadReport | null {
  const data = readFile(path);
  if (data === null || data.length === 0) return null;
  const name = basename(path);
  const parser = new RequestParser();
  parser.feed(data);
  let offset = 0; // where the next command starts: everything before it was replayed
  let commands = 0;
  let multiAt = -1; // offset of the MULTI of the transaction being read, -1 outside one
  let commandsBeforeMulti = 0;
  for (;;) {
    const args = nextCommand(parser, name, offset);
    if (args === null) break;
    const end = data.length - parser.bufferedBytes;
    if (data[offset] === HASH) {
      offset = end;
      continue;
    }
    checkFraming(data, offset, end, args, name);
    if (!replayer.isCommand(args[0]!)) {
      throw new AofLoadError(`Unknown command '${args[0]!.slice(0, 128)}' reading the append only file ${name} at offset ${offset}`);
    }
    const verb = args[0]!.toUpperCase();
    if (verb === 'MULTI' && multiAt >= 0) throw badFormat(name, offset, `MULTI inside the transaction that starts at offset ${multiAt}`);
    if (verb === 'EXEC' && multiAt < 0) throw badFormat(name, offset, 'EXEC without MULTI');
    checkReplayed(replayer.run(args), args, offset, name);
    if (verb === 'MULTI') {
      multiAt = offset;
      commandsBeforeMulti = commands;
    }
    if (verb === 'EXEC') multiAt = -1;
    commands++;
    offset = end;
  }
  // What follows the last whole command (or the MULTI of an unfinished transaction) never
  // fully reached the disk.
  const validUpTo = multiAt >= 0 ? multiAt : offset;
  if (offset < data.length && data[offset] !== STAR && data[offset] !== HASH) {
    throw badFormat(name, offset, `expected '*', got ${describeByte(data[offset])}`);
  }
  const truncatedBytes = data.length - validUpTo;
  if (truncatedBytes > 0) {
    if (multiAt >= 0) log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
    log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
    log.warning(`!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
    replayer.truncate(validUpTo);
    log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  }
  // The commands of a transaction dropped whole were never applied: they do not count.
  return { commands: multiAt >= 0 ? commandsBeforeMulti : commands, bytes: validUpTo, truncatedBytes };
}

/** The next command, or null at the end of the whole commands; framing errors name the offset. */
function nextCommand(parser: RequestParser, name: string, offset: number): string[] | null {
  try {
    return parser.next();
  } catch (err) {
    if (err instanceof ProtocolError) throw badFormat(name, offset, err.message.replace(/^Protocol error: /, ''));
    throw err;
  }
}

/**
 * A command must be framed exactly as it would be written. The parser trusts each bulk
 * length and skips the two bytes after it unread; a damaged length would shift every
 * later frame.
 */
function checkFraming(data: Buffer, offset: number, end: number, args: string[], name: string): void {
  if (data[offset] !== STAR) throw badFormat(name, offset, `expected '*', got ${describeByte(data[offset])}`);
  if (!encodeCommand(args).equals(data.subarray(offset, end))) {
    throw badFormat(name, offset, 'the command is not framed as Redis writes commands (a bulk length does not match its data)');
  }
}

/**
 * A logged command succeeded when it ran, and the replay is deterministic: a failure means
 * the file does not describe this server's data (SELECT 1 from a Redis with 16 databases,
 * say). Carrying on would build a dataset that never existed. EXEC's reply holds the reply
 * of each command of the transaction.
 */
function checkReplayed(reply: RespValue, args: string[], offset: number, name: string): void {
  const failed = reply.type === 'error' ? reply : reply.type === 'array' ? reply.items?.find((r) => r.type === 'error') : undefined;
  if (failed?.type !== 'error') return;
  throw new AofLoadError(`Command '${args[0]!.slice(0, 128)}' at offset ${offset} of the append only file ${name} failed on replay: ${failed.message}`);
}

function badFormat(name: string, offset: number, reason: string): AofLoadError {
  return new AofLoadError(
    `Bad file format reading the append only file ${name} at offset ${offset}: ${reason}. ` +
      `Make a backup of the file, then inspect it with redis-check-aof (--fix truncates it at the damage)`,
  );
}

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the file';
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/** Reads exactly the size fstat reports (a device file would read forever). */
function readFile(path: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return data.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}
