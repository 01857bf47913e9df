// 05: the append-only file (AOF), this step's lesson. Every write command that changed the
// dataset is appended to a file in the RESP a client sends; on start the file is replayed
// (aof-load.ts).
//
// AofWriter is a propagation target (propagate.ts): once per event-loop turn, in the server's
// beforeSleep, propagation hands it the turn's commands, encoded, and flush() writes them
// with one write call and applies the fsync policy. Only then do the turn's replies
// leave (lib/networking.ts): write-before-reply, and one write (one fdatasync under
// `always`) for every client served in the turn: group commit. The writer has no timer of
// its own: the server's cron asks for a beforeSleep when a write must be retried or an
// `everysec` fsync is due, so there is exactly one place where the file is written.
//
// Redis's version: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
import fs from 'node:fs';
import { basename } from 'node:path';
import type { FsyncPolicy } from '../lib/cli.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { PropagationTarget } from './propagate.ts';

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
  /**
   * The AOF can no longer keep its promise (`always` and a failed write or fsync). The
   * server stops; whatever this does, the writer confirms nothing from then on.
   */
  onFatal: (message: string) => void;
  io?: FileIo;
}

/** How long `everysec` lets written bytes wait for an fsync, on the monotonic clock. */
const FSYNC_INTERVAL_MS = 1000;

/**
 * Appends commands to the AOF. Their bytes collect in memory as they are propagated; flush()
 * writes them, and the server calls it before the replies that depend on them leave.
 */
export class AofWriter implements PropagationTarget {
  readonly path: string;
  readonly policy: FsyncPolicy;
  /** The file's size when the server started (Redis: the size after the last rewrite). */
  private baseSize: number;
  private readonly fd: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly io: FileIo;
  private readonly onFatal: (message: string) => void;

  /** The current batch: RESP as propagation encoded it (SELECT 0 first, as Redis writes it). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes a failed write left behind; they go out first on the next attempt. */
  private unwritten: Buffer | null = null;
  private size: number;
  private syncedSize: number;
  private lastFsyncAt: number; // monotonic ms
  private backgroundFsync: Promise<void> | null = null;
  private writeError: string | null = null;
  private fsyncError: string | null = null;
  /** The `always` promise was broken: nothing this writer holds may ever be confirmed. */
  private broken = false;
  private closed = false;

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
  }

  /** Queues encoded commands for the file. They reach the disk at the next flush(). */
  feed(bytes: Buffer): void {
    if (this.closed) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /**
   * Writes everything fed since the last flush with one write call, then applies the fsync
   * policy. Returns false once the `always` promise is broken (the server must stop): the
   * caller sends none of the replies that wait for it, now or later.
   */
  flush(): boolean {
    if (this.broken) return false;
    if (this.closed) return true;
    const fresh = this.takePending();
    const bytes = this.unwritten === null ? fresh : fresh === null ? this.unwritten : Buffer.concat([this.unwritten, fresh]);
    if (bytes === null) {
      if (this.policy === 'everysec') this.fsyncInBackgroundIfDue();
      return true;
    }
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

  /**
   * True when flush() has work: commands waiting to be written (or rewritten after an
   * error), or an `everysec` fsync that is due. The server's cron checks it.
   */
  get needsFlush(): boolean {
    if (this.pendingBytes > 0 || this.unwritten !== null) return true;
    return this.policy === 'everysec' && this.fsyncIsDue();
  }

  /** Why write commands are refused (Redis's MISCONF), or null while the AOF is healthy. */
  get diskError(): string | null {
    return this.writeError ?? this.fsyncError;
  }

  /** Cuts the file to `length` bytes: how the loader drops a torn tail before appending. */
  truncate(length: number): void {
    this.io.ftruncate(this.fd, length);
    this.size = this.baseSize = this.syncedSize = length;
  }

  /** What INFO persistence reports about the file. */
  info(): Array<[string, string | number]> {
    return [
      ['aof_current_size', this.size],
      ['aof_base_size', this.baseSize],
      ['aof_pending_rewrite', 0],
      ['aof_buffer_length', this.pendingBytes + (this.unwritten?.length ?? 0)],
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
    await this.backgroundFsync;
    try {
      this.io.fdatasync(this.fd);
    } catch (err) {
      this.log.warning(`Error syncing the AOF file on shutdown: ${describeSystemError(err)}`);
    }
    fs.closeSync(this.fd);
  }

  /** The batch fed since the last flush, as one buffer, or null; the batch is then empty. */
  private takePending(): Buffer | null {
    const { pending, pendingBytes } = this;
    if (pending.length === 0) return null;
    this.pending = [];
    this.pendingBytes = 0;
    // Usually one piece: propagation hands over a turn's changes at once.
    return pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
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
      this.breakPromise("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
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
      this.breakPromise(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${describeSystemError(err)}. Exiting...`);
      return false;
    }
    this.syncedSize = this.size;
    this.lastFsyncAt = this.clock.monotonic();
    return true;
  }

  /**
   * The batch already changed memory and its replies are waiting, but the disk does not
   * hold it and memory cannot be rolled back: from now on nothing may be confirmed.
   */
  private breakPromise(message: string): void {
    this.broken = true;
    this.onFatal(message);
  }

  /** everysec: written bytes not yet synced, and a second since the last fsync. */
  private fsyncIsDue(): boolean {
    if (this.backgroundFsync !== null || this.syncedSize === this.size) return false;
    return this.clock.monotonic() - this.lastFsyncAt >= FSYNC_INTERVAL_MS;
  }

  /** everysec: at most one fsync a second, on a worker thread, never two at once. */
  private fsyncInBackgroundIfDue(): void {
    if (!this.fsyncIsDue()) return;
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
}

/** "ENOSPC: no space left on device, write" -> "No space left on device", as strerror says it. */
function describeSystemError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const text = /^[A-Z0-9_]+: (.*), \w+(?: '.*')?$/.exec(message)?.[1] ?? message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
