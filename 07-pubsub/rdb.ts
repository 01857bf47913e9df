// 06: snapshots (Redis's rdb.c): the whole dataset written to one file, dump.rdb, in Redis's
// own RDB format (lib/rdb.ts), and read back at start.
//
// - SAVE writes it now, with every client waiting; BGSAVE writes it in the background: a
//   frozen view of the keyspace (frozen-view.ts) is written in slices, one slice per turn
//   of the event loop, so clients keep being served, and the file holds exactly the data of
//   the moment BGSAVE started. The cron starts a BGSAVE when a save point is reached
//   (--save "3600 1": an hour after the last save, if at least one key changed).
// - The slices go to a sink (writeSnapshot): a file here; from step 08 a replica's socket,
//   which says when it is full, and the slices wait for it.
// - A file is never written in place: it is written to temp-<pid>.rdb, synced to the disk,
//   renamed over dump.rdb (atomic), and the directory is synced so the rename survives a
//   power cut. A crash at any moment leaves the previous snapshot whole.
// - At start, a key whose deadline passed while the server was down is not loaded.
import fs from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../lib/clock.ts';
import type { SavePoint } from '../lib/cli.ts';
import type { Logger } from '../lib/log.ts';
import { RdbError } from '../lib/rdb.ts';
import { RdbEncoder } from '../lib/rdb-encoder.ts';
import { decodeRdb } from '../lib/rdb-decoder.ts';
import type { Keyspace } from './keyspace.ts';

/** Entries per slice of a BGSAVE: about a millisecond of encoding between two turns. */
export const BGSAVE_SLICE_ENTRIES = 1024;
/** After a failed BGSAVE, save points wait this long before trying again (Redis: 5 s). */
const RETRY_DELAY_SECONDS = 5;

export interface SnapshotSettings {
  dir: string;
  dbfilename: string;
  save: SavePoint[];
}

/** The file is damaged or holds what this server cannot load: it must not start. */
export class RdbLoadError extends Error {}

/** A BGSAVE stopped on purpose (shutdown, FLUSHALL): not a failure. */
class BackgroundSaveAbandoned extends Error {}

/** Where a snapshot's bytes go, a slice at a time: a file; from step 08, a replica's socket. */
export interface SnapshotSink {
  /** Takes one slice; resolves once the sink can take the next (backpressure). */
  write(slice: Buffer): Promise<void>;
}

/**
 * Encodes a frozen view into `sink`, a slice per turn of the event loop: clients are served
 * between two slices, and a slow sink slows the encoding down, never the clients. `stop`
 * is asked after each slice; true abandons the snapshot (BackgroundSaveAbandoned).
 */
export async function writeSnapshot(encoder: RdbEncoder, sink: SnapshotSink, sliceEntries: number, stop: () => boolean): Promise<void> {
  for (let slice = encoder.next({ entries: sliceEntries }); slice !== null; slice = encoder.next({ entries: sliceEntries })) {
    await sink.write(slice);
    if (stop()) throw new BackgroundSaveAbandoned();
    // A sink with room takes a slice at once (a socket whose buffer is not full): the loop
    // gets its turn all the same.
    await nextTurn();
  }
}

/** Everything the server knows about its snapshots (INFO persistence's rdb_* fields). */
export class Snapshots {
  /** LASTSAVE: Unix seconds of the last successful save (or of the start). */
  lastSave: number;
  lastBgsaveStatus: 'ok' | 'err' = 'ok';
  lastBgsaveSeconds = -1;
  saves = 0;
  loadedKeys = 0;
  expiredAtLoad = 0;
  /** BGSAVE was asked for while one could not start: the cron starts it when it can. */
  scheduled = false;
  /** Keyspace changes counted at the last successful save (rdb_changes_since_last_save). */
  private dirtyAtLastSave = 0;
  private lastBgsaveTry = 0;
  private running: { startedAt: number; dirtyAtStart: number; aborted: boolean; done: Promise<void> } | null = null;

  constructor(
    private readonly db: Keyspace,
    private readonly settings: SnapshotSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly sliceEntries = BGSAVE_SLICE_ENTRIES,
  ) {
    this.lastSave = this.unixSeconds();
  }

  get path(): string {
    return join(this.settings.dir, this.settings.dbfilename);
  }

  get inProgress(): boolean {
    return this.running !== null;
  }

  get changesSinceLastSave(): number {
    return this.db.dirty - this.dirtyAtLastSave;
  }

  /** Seconds the running BGSAVE has taken so far, or -1. */
  get currentBgsaveSeconds(): number {
    return this.running === null ? -1 : Math.floor((this.clock.monotonic() - this.running.startedAt) / 1000);
  }

  /** SAVE: writes the snapshot now, blocking everything until it is on disk. */
  saveNow(): boolean {
    this.saves++;
    const dirtyAtStart = this.db.dirty;
    const { view, release } = this.db.freeze();
    const temp = join(this.settings.dir, `temp-${process.pid}.rdb`);
    try {
      const fd = fs.openSync(temp, 'w');
      try {
        for (const slice of new RdbEncoder(view, { ctime: this.unixSeconds() })) writeAll(fd, slice);
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.publish(temp);
      this.saved(dirtyAtStart);
      this.lastBgsaveStatus = 'ok'; // a snapshot is on disk again: writes are welcome (MISCONF ends)
      this.log.notice('DB saved on disk');
      return true;
    } catch (err) {
      fs.rmSync(temp, { force: true });
      this.log.warning(`Failed saving the DB: ${(err as Error).message}`);
      return false;
    } finally {
      release();
    }
  }

  /** BGSAVE: starts writing the snapshot as of now, a slice per turn of the event loop. */
  startBackgroundSave(): void {
    const { view, release } = this.db.freeze();
    const run = { startedAt: this.clock.monotonic(), dirtyAtStart: this.db.dirty, aborted: false, done: Promise.resolve() };
    this.running = run;
    this.saves++;
    this.lastBgsaveTry = this.unixSeconds();
    this.log.notice('Background saving started');
    const encoder = new RdbEncoder(view, { ctime: this.unixSeconds() });
    run.done = this.writeInSlices(encoder, run)
      .then(() => this.backgroundSaveEnded(run, null), (err: Error) => this.backgroundSaveEnded(run, err))
      .finally(release);
  }

  /**
   * Called by the server's cron: starts a scheduled BGSAVE, or one a save point asks for
   * (enough changes, and enough seconds since the last save; after a failure, not again
   * for a few seconds).
   */
  cron(): void {
    if (this.running !== null) return;
    const now = this.unixSeconds();
    const retryAllowed = this.lastBgsaveStatus === 'ok' || now - this.lastBgsaveTry > RETRY_DELAY_SECONDS;
    if (this.scheduled && retryAllowed) {
      this.scheduled = false;
      this.startBackgroundSave();
      return;
    }
    const due = this.settings.save.find((p) => this.changesSinceLastSave >= p.changes && now - this.lastSave > p.seconds);
    if (due === undefined || !retryAllowed) return;
    this.log.notice(`${due.changes} changes in ${due.seconds} seconds. Saving...`);
    this.startBackgroundSave();
  }

  /**
   * A BGSAVE in progress is abandoned (Redis kills its child): it stops at its next slice
   * and removes its temp file. The previous snapshot, and the last status, stay.
   */
  abandonBackgroundSave(): Promise<void> {
    const run = this.running;
    if (run === null) return Promise.resolve();
    run.aborted = true;
    return run.done;
  }

  /**
   * FLUSHALL, as Redis's flushAllDataAndResetRDB: a snapshot being written is of data that
   * no longer exists, so it is abandoned; with save points set, the empty dataset is saved
   * at once, or a restart would bring the flushed keys back from the last snapshot.
   */
  flushedAll(): void {
    void this.abandonBackgroundSave();
    if (this.settings.save.length > 0) this.saveNow();
  }

  /**
   * Loads dump.rdb into the keyspace at start (Redis's rdbLoad). Returns false when there
   * is no file. Throws RdbLoadError when the file cannot be loaded whole.
   */
  load(): boolean {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const now = BigInt(this.clock.now());
    try {
      for (const event of decodeRdb(data)) {
        if (event.type === 'select-db' && event.db !== 0) {
          throw new RdbLoadError(`${this.settings.dbfilename} holds database ${event.db}, and this server has only database 0`);
        }
        if (event.type !== 'entry') continue;
        if (this.db.isStored(event.key)) throw new RdbLoadError(`${this.settings.dbfilename} holds the key "${event.key}" twice`);
        // A key whose deadline passed while the server was down stays dead.
        if (event.deadline !== null && event.deadline < now) {
          this.expiredAtLoad++;
          continue;
        }
        this.db.set(event.key, event.value);
        if (event.deadline !== null) this.db.setDeadline(event.key, event.deadline);
        this.loadedKeys++;
      }
    } catch (err) {
      if (err instanceof RdbError) throw new RdbLoadError(`Can't load ${this.settings.dbfilename}: ${err.message}`);
      throw err;
    }
    this.dirtyAtLastSave = this.db.dirty;
    return true;
  }

  private async writeInSlices(encoder: RdbEncoder, run: { aborted: boolean }): Promise<void> {
    // Its own name: a SAVE (after FLUSHALL) may run while an abandoned one still winds down.
    const temp = join(this.settings.dir, `temp-bgsave-${process.pid}.rdb`);
    const fd = fs.openSync(temp, 'w'); // now, so the file exists when BGSAVE's reply leaves
    try {
      await writeSnapshot(encoder, fileSink(fd), this.sliceEntries, () => run.aborted);
      await fdatasyncAsync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    try {
      this.publish(temp);
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw err;
    }
  }

  private backgroundSaveEnded(run: { startedAt: number; dirtyAtStart: number }, err: Error | null): void {
    this.running = null;
    this.lastBgsaveSeconds = Math.floor((this.clock.monotonic() - run.startedAt) / 1000);
    if (err instanceof BackgroundSaveAbandoned) {
      this.log.notice('Background saving abandoned');
    } else if (err === null) {
      this.saved(run.dirtyAtStart);
      this.lastBgsaveStatus = 'ok';
      this.log.notice('Background saving terminated with success');
    } else {
      this.lastBgsaveStatus = 'err';
      this.log.warning(`Background saving error: ${err.message}`);
    }
  }

  /** The changes made since the snapshot began still count toward the next save point. */
  private saved(dirtyAtStart: number): void {
    this.dirtyAtLastSave = dirtyAtStart;
    this.lastSave = this.unixSeconds();
  }

  /** Renames the finished temp file over dump.rdb, then syncs the directory entry. */
  private publish(temp: string): void {
    fs.renameSync(temp, this.path);
    const dir = fs.openSync(this.settings.dir, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }

  private unixSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }
}

/** A file as a snapshot's sink: each slice written on libuv's thread pool, off the event loop. */
function fileSink(fd: number): SnapshotSink {
  return {
    async write(slice) {
      for (let written = 0; written < slice.length; ) written += await writeAsync(fd, slice, written);
    },
  };
}

/** write(2) on libuv's thread pool; resolves with how many bytes went out. */
function writeAsync(fd: number, bytes: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, bytes, offset, (err, written) => (err ? reject(err) : resolve(written))));
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** One write(2) may write less than asked: loop until it is all out. */
function writeAll(fd: number, bytes: Buffer): void {
  for (let written = 0; written < bytes.length; ) written += fs.writeSync(fd, bytes, written);
}
