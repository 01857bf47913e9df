// NEW: the append-only file (AOF), this step's lesson. Every write command that changed the
// dataset is appended to a file in the RESP a client sends; on start the file is replayed.
//
// - AofWriter collects the commands of one batch (one socket read), writes them with one
//   write call at the end of the batch, and under `appendfsync always` waits for the disk
//   (fdatasync) before the batch's replies may leave: write-before-reply, group commit.
// - loadAof reads the file back through the same RequestParser the network uses, runs each
//   command through the command table, drops a half-written last command (a crash in the
//   middle of a write) and refuses a file damaged anywhere else, naming the byte offset.
//
// Redis's version: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
import fs from 'node:fs';
import { basename } from 'node:path';
import type { FsyncPolicy } from '../lib/cli.ts';
import type { Cancel, Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { ProtocolError, ReplyWriter, RequestParser, bulks, encodeCommand, type RespValue } from '../lib/resp.ts';

/** The file operations the writer uses; tests hand in a disk that fails on purpose. */
export interface FileIo {
  /** One write(2): returns how many bytes went out, or throws. */
  write(fd: number, bytes: Buffer): number;
  fdatasync(fd: number): void;
  /** fdatasync on a worker thread (libuv's pool), as Redis uses a background thread. */
  fdatasyncInBackground(fd: number, done: (err: Error | null) => void): void;
  ftruncate(fd: number, length: number): void;
}

export const nodeFileIo: FileIo = {
  write: (fd, bytes) => fs.writeSync(fd, bytes),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  fdatasyncInBackground: (fd, done) => fs.fdatasync(fd, done),
  ftruncate: (fd, length) => fs.ftruncateSync(fd, length),
};

export interface AofWriterOptions {
  path: string;
  fsync: FsyncPolicy;
  clock: Clock;
  log: Logger;
  /** The AOF can no longer keep its promise (`always` and a failed write): stop the server. */
  onFatal: (message: string) => void;
  io?: FileIo;
}

/** How long `everysec` lets written bytes wait for an fsync, on the monotonic clock. */
const FSYNC_INTERVAL_MS = 1000;

/**
 * Appends commands to the AOF. Commands collect in memory during a batch; flush() writes
 * them, and the server calls it before sending the batch's replies.
 */
export class AofWriter {
  readonly path: string;
  readonly policy: FsyncPolicy;
  /** The file's size when the server started (Redis: the size after the last rewrite). */
  readonly baseSize: number;
  private readonly fd: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly io: FileIo;
  private readonly onFatal: (message: string) => void;

  /** Commands of the current batch, encoded as RESP; the same encoder replies use. */
  private readonly pending = new ReplyWriter(2);
  /** Bytes a failed write left behind; they go out first on the next attempt. */
  private unwritten: Buffer | null = null;
  /** Redis writes SELECT before the first command of a run, so the file says which db. */
  private selectedDb = -1;
  private size: number;
  private syncedSize: number;
  private lastFsyncAt: number; // monotonic ms
  private backgroundFsync: Promise<void> | null = null;
  private writeError: string | null = null;
  private fsyncError: string | null = null;
  private flushScheduled = false;
  private closed = false;
  private readonly stopTimer: Cancel;

  constructor(options: AofWriterOptions) {
    this.path = options.path;
    this.policy = options.fsync;
    this.clock = options.clock;
    this.log = options.log;
    this.io = options.io ?? nodeFileIo;
    this.onFatal = options.onFatal;
    // O_APPEND: every write lands at the end of the file, whatever else has the file open.
    this.fd = fs.openSync(this.path, 'a');
    this.size = fs.fstatSync(this.fd).size;
    this.baseSize = this.size;
    this.syncedSize = this.size;
    this.lastFsyncAt = this.clock.monotonic();
    // Once a second: retry a failed write, and give `everysec` its fsync when writes stop.
    this.stopTimer = this.clock.every(FSYNC_INTERVAL_MS, () => this.onTimer());
  }

  /** Queues one command for the file. It reaches the disk at the next flush(). */
  append(args: readonly string[], db = 0): void {
    if (this.closed) return;
    if (db !== this.selectedDb) {
      this.pending.write(bulks(['SELECT', String(db)]));
      this.selectedDb = db;
    }
    this.pending.write(bulks(args as string[]));
    // A command appended outside a client's batch (the active expiry cycle's DEL) is
    // written at the end of this turn of the event loop, as Redis does in beforeSleep.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /**
   * Writes everything appended since the last flush with one write call, then applies the
   * fsync policy. Returns false when the server must stop (the `always` promise is broken);
   * the caller then sends none of the batch's replies.
   */
  flush(): boolean {
    if (this.closed) return true;
    const fresh = this.pending.take();
    const bytes = this.unwritten === null ? fresh : fresh === null ? this.unwritten : Buffer.concat([this.unwritten, fresh]);
    if (bytes === null) return true;
    this.unwritten = null;
    const outcome = this.writeAll(bytes);
    if (outcome.written < bytes.length) return this.onWriteError(bytes, outcome.written, outcome.error);
    if (this.writeError !== null) {
      this.log.warning('AOF write error looks solved, Redis can write again.');
      this.writeError = null;
    }
    this.size += bytes.length;
    if (this.policy === 'always') return this.fsyncNow();
    if (this.policy === 'everysec') this.fsyncInBackgroundIfDue();
    return true;
  }

  /** True while commands wait to be written: replies must wait for them too. */
  get hasPending(): boolean {
    return this.pending.length > 0 || this.unwritten !== null;
  }

  /** Why write commands are refused (Redis's MISCONF), or null while the AOF is healthy. */
  get diskError(): string | null {
    return this.writeError ?? this.fsyncError;
  }

  /** What INFO persistence reports about the file. */
  info(): Array<[string, string | number]> {
    return [
      ['aof_current_size', this.size],
      ['aof_base_size', this.baseSize],
      ['aof_pending_rewrite', 0],
      ['aof_buffer_length', this.pending.length + (this.unwritten?.length ?? 0)],
      ['aof_pending_bio_fsync', this.backgroundFsync === null ? 0 : 1],
      ['aof_delayed_fsync', 0],
    ];
  }

  /** On shutdown: write what is pending, wait for the disk, close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    if (this.unwritten !== null) this.log.warning(`${this.unwritten.length} bytes could not be written to the AOF before shutdown`);
    this.closed = true;
    this.stopTimer();
    await this.backgroundFsync;
    try {
      this.io.fdatasync(this.fd);
    } catch (err) {
      this.log.warning(`Error syncing the AOF file on shutdown: ${describeSystemError(err)}`);
    }
    fs.closeSync(this.fd);
  }

  /** Loops over short writes; stops at the first error, reporting how far it got. */
  private writeAll(bytes: Buffer): { written: number; error?: unknown } {
    let written = 0;
    while (written < bytes.length) {
      try {
        const n = this.io.write(this.fd, written === 0 ? bytes : bytes.subarray(written));
        if (n <= 0) return { written };
        written += n;
      } catch (error) {
        return { written, error };
      }
    }
    return { written };
  }

  private onWriteError(bytes: Buffer, written: number, error: unknown): boolean {
    const reason = error === undefined ? 'No space left on device' : describeSystemError(error);
    if (this.writeError === null) {
      this.log.warning(error === undefined
        ? `Short write while writing to the AOF file: (nwritten=${written}, expected=${bytes.length})`
        : `Error writing to the AOF file: ${reason}`);
    }
    // Half a command at the end of the file would stop the next start: cut it off.
    if (written > 0) {
      try {
        this.io.ftruncate(this.fd, this.size);
        written = 0;
      } catch (err) {
        this.log.warning(`Could not remove short write from the append-only file. ftruncate: ${describeSystemError(err)}`);
      }
    }
    if (this.policy === 'always') {
      // The batch already changed memory and its replies are waiting; nothing may be
      // acknowledged that is not on disk, and memory cannot be rolled back: stop.
      this.onFatal("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      return false;
    }
    // Keep the bytes for the next attempt and refuse writes until one succeeds.
    this.size += written;
    this.unwritten = bytes.subarray(written);
    this.writeError = reason;
    return true;
  }

  private fsyncNow(): boolean {
    try {
      this.io.fdatasync(this.fd);
    } catch (err) {
      this.onFatal(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${describeSystemError(err)}. Exiting...`);
      return false;
    }
    this.syncedSize = this.size;
    this.lastFsyncAt = this.clock.monotonic();
    return true;
  }

  /** everysec: at most one fsync a second, on a worker thread, never two at once. */
  private fsyncInBackgroundIfDue(): void {
    if (this.backgroundFsync !== null || this.syncedSize === this.size) return;
    if (this.clock.monotonic() - this.lastFsyncAt < FSYNC_INTERVAL_MS) return;
    const target = this.size;
    this.lastFsyncAt = this.clock.monotonic();
    this.backgroundFsync = new Promise((resolve) => {
      this.io.fdatasyncInBackground(this.fd, (err) => {
        this.backgroundFsync = null;
        if (err) {
          if (this.fsyncError === null) this.log.warning(`Fail to fsync the AOF file: ${describeSystemError(err)}`);
          this.fsyncError = describeSystemError(err);
        } else {
          if (this.fsyncError !== null) this.log.warning('AOF fsync error looks solved, Redis can write again.');
          this.fsyncError = null;
          this.syncedSize = Math.max(this.syncedSize, target);
        }
        resolve();
      });
    });
  }

  private onTimer(): void {
    if (this.writeError !== null) this.flush();
    if (this.policy === 'everysec') this.fsyncInBackgroundIfDue();
  }
}

/** "ENOSPC: no space left on device, write" -> "No space left on device", as strerror says it. */
function describeSystemError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const text = /^[A-Z0-9_]+: (.*), \w+(?: '.*')?$/.exec(message)?.[1] ?? message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---------------------------------------------------------------------------------------
// Loading

/** The file is damaged before its end: the server must not start on a partial dataset. */
export class AofLoadError extends Error {}

export interface LoadReport {
  /** Commands replayed. */
  commands: number;
  /** Bytes of the file that hold whole commands (after any truncation). */
  bytes: number;
  /** Bytes of a half-written last command that were cut off, if any. */
  truncatedBytes: number;
}

export interface Replayer {
  /** Runs one command from the file; the reply is thrown away. */
  run(args: string[]): RespValue;
  isCommand(name: string): boolean;
}

const STAR = 0x2a; // '*': a command
const HASH = 0x23; // '#': an annotation line Redis may write (#TS:...), skipped

/**
 * Replays the AOF at `path`. Returns null when there is no file yet. Throws AofLoadError,
 * naming the byte offset, when anything but the last command is damaged.
 */
export function loadAof(path: string, replayer: Replayer, log: Logger): LoadReport | null {
  const data = readFile(path);
  if (data === null) return null;
  const name = basename(path);
  const parser = new RequestParser();
  parser.feed(data);
  let offset = 0; // where the next command starts: everything before it was replayed
  let commands = 0;
  for (;;) {
    let args: string[] | null;
    try {
      args = parser.next();
    } catch (err) {
      if (err instanceof ProtocolError) throw badFormat(name, offset, err.message.replace(/^Protocol error: /, ''));
      throw err;
    }
    if (args === null) break;
    const end = data.length - parser.bufferedBytes;
    if (data[offset] === HASH) {
      offset = end;
      continue;
    }
    if (data[offset] !== STAR) throw badFormat(name, offset, `expected '*', got ${describeByte(data[offset])}`);
    // The parser trusts each bulk length and skips the two bytes after it unread; a damaged
    // length would shift every later frame. A command must be exactly what we would write.
    if (!encodeCommand(args).equals(data.subarray(offset, end))) {
      throw badFormat(name, offset, 'the command is not framed as Redis writes commands (a bulk length does not match its data)');
    }
    if (!replayer.isCommand(args[0]!)) {
      throw new AofLoadError(`Unknown command '${args[0]!.slice(0, 128)}' reading the append only file ${name} at offset ${offset}`);
    }
    // A logged command succeeded when it ran, and the replay is deterministic: a failure
    // means the file does not describe this server's data (SELECT 1 from a Redis with 16
    // databases, say). Carrying on would build a dataset that never existed.
    const reply = replayer.run(args);
    if (reply.type === 'error') {
      throw new AofLoadError(`Command '${args[0]!.slice(0, 128)}' at offset ${offset} of the append only file ${name} failed on replay: ${reply.message}`);
    }
    commands++;
    offset = end;
  }
  const truncatedBytes = data.length - offset;
  if (truncatedBytes > 0) {
    // The rest is the start of a command (or annotation) whose end never reached the disk:
    // a crash in the middle of a write. Anything else there is damage, not a crash.
    if (data[offset] !== STAR && data[offset] !== HASH) throw badFormat(name, offset, `expected '*', got ${describeByte(data[offset])}`);
    log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
    log.warning(`!!! Truncating the AOF ${name} at offset ${offset} !!!`);
    fs.truncateSync(path, offset);
    log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  }
  return { commands, bytes: offset, truncatedBytes };
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
