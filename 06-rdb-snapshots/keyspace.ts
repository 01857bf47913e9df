// 04: the keyspace with deadlines. Step 03 kept keys in a plain Map; this class keeps
// Map's method names (get, set, has, delete, size, keys, clear) so the command handlers
// barely change, and adds what expiry needs:
//
// - a deadline per key, in absolute Unix milliseconds, kept in a second index beside the
//   values (as Redis keeps its `expires` dict beside the main dict);
// - lazy expiry: every access checks the deadline first, and a key past it is deleted
//   right there, so no command ever sees an expired key;
// - active expiry: activeExpireCycle(), run 10 times a second, samples keys that have a
//   deadline and deletes the expired ones, so keys nobody reads do not stay in memory.
//
// Keys and values are latin1 strings, as in step 03: one char per byte, binary-safe.
import type { Clock } from '../lib/clock.ts';
import { DELETED, FrozenView } from './frozen-view.ts'; // 06

/** The active expiry cycle's tuning, after Redis's ACTIVE_EXPIRE_CYCLE_* constants. */
export const ACTIVE_EXPIRE = {
  /** Cycles per second (Redis's `hz`). */
  hz: 10,
  /** Keys with a deadline examined per loop of the cycle. */
  keysPerLoop: 20,
  /** Another loop runs while more than this share of the sample had expired. */
  repeatAbovePercent: 25,
  /** The most one cycle may run: 25% of the 100 ms between two cycles. */
  timeBudgetMs: 25,
} as const;

/** What one run of the active cycle did, for INFO and for tests. */
export interface ExpireCycleReport {
  loops: number;
  sampled: number;
  expired: number;
  /** The cycle stopped because it used its time budget, not because few keys were stale. */
  timedOut: boolean;
}

export interface KeyspaceOptions {
  /** Random numbers in [0, 1) for sampling; tests may pass a seeded generator. */
  random?: () => number;
  /** Told about each key that expired (lazily or actively): step 05 logs a DEL. */
  onExpire?: (key: string) => void;
  /** 05: a key's value or deadline changed, or it went (Redis's signalModifiedKey): WATCH listens. */
  onModify?: (key: string) => void;
  /** 05: every key is about to go (FLUSHALL; Redis's signalFlushedDb). */
  onFlush?: () => void;
}

/** A key's deadline, and where the key sits in the array that sampling picks from. */
interface Expiry {
  deadline: bigint;
  slot: number;
}

export class Keyspace {
  // 06: not readonly: FLUSHALL during a save hands the old tables to the views; and while a
  // view is live, a deleted key keeps its place in the table as DELETED (frozen-view.ts).
  private values = new Map<string, string | typeof DELETED>();
  private expires = new Map<string, Expiry>();
  /** Every key that has a deadline, in no order: random sampling is an index away. */
  private keysWithDeadline: string[] = []; // 06
  private readonly random: () => number;
  private readonly events: KeyspaceOptions;
  private isLoading = false; // 05
  private readonly views: FrozenView[] = []; // 06: the live views (a BGSAVE; from 08 a full sync)
  /** 06: the keys deleted while a view was live, and how many of them are still DELETED. */
  private deletedWhileViewed: string[] = [];
  private tombstones = 0;

  /** Keys deleted because their deadline passed (INFO's expired_keys). */
  expiredKeys = 0;
  /** Cycles that stopped on their time budget (INFO's expired_time_cap_reached_count). */
  timeCapReached = 0;
  /** A running estimate of the time left to live of keys with a deadline, in ms. */
  averageTtl = 0;
  /**
   * 05: changes made to the dataset since the start (Redis's server.dirty). A write command
   * that moved it changed something, so it is propagated; one that did not never is.
   */
  dirty = 0;

  constructor(private readonly clock: Clock, options: KeyspaceOptions = {}) {
    this.random = options.random ?? Math.random;
    this.events = options;
  }

  /**
   * 05: true while the AOF is replayed. Nothing expires then: the file is replayed as it
   * happened, and a key that was alive when a later command touched it must be alive when
   * that command is replayed. Keys past their deadline go once loading is over.
   */
  get loading(): boolean {
    return this.isLoading;
  }

  /** 05: runs `replay` (the AOF) with `loading` set. */
  load<T>(replay: () => T): T {
    this.isLoading = true;
    try {
      return replay();
    } finally {
      this.isLoading = false;
    }
  }

  // ---- Map's interface, with lazy expiry on every access --------------------------------

  /** How many keys are stored, including expired ones no access or cycle has removed yet. */
  get size(): number {
    return this.values.size - this.tombstones; // 06: a DELETED place is not a key
  }

  get(key: string): string | undefined {
    this.expireIfDue(key);
    const value = this.values.get(key);
    return value === DELETED ? undefined : value; // 06
  }

  has(key: string): boolean {
    this.expireIfDue(key);
    return this.isStored(key); // 06
  }

  /**
   * Stores a new value and forgets any deadline, as SET, GETSET and MSET do. Overwriting a
   * key that was past its deadline counts as an expiry first, as in Redis.
   */
  set(key: string, value: string): this {
    this.expireIfDue(key);
    this.beforeChange(key); // 06
    this.store(key, value); // 06
    this.dropDeadline(key);
    this.changed(key); // 05
    return this;
  }

  /** Changes a live key's value but keeps its deadline, as APPEND and INCR do. */
  update(key: string, value: string): this {
    this.beforeChange(key); // 06
    this.store(key, value); // 06
    this.changed(key); // 05
    return this;
  }

  /** Deletes a key. An expired key counts as expired, not deleted: the answer is false. */
  delete(key: string): boolean {
    if (this.expireIfDue(key)) return false;
    this.beforeChange(key); // 06
    this.dropDeadline(key);
    if (!this.remove(key)) return false; // 06
    this.changed(key); // 05
    return true;
  }

  /** The live keys. Expired ones are skipped but left for the cycle, as Redis 7.0's KEYS does. */
  *keys(): IterableIterator<string> {
    const now = this.clock.now();
    for (const [key, value] of this.values) if (value !== DELETED && !this.isExpiredAt(key, now)) yield key; // 06
  }

  clear(): void {
    this.events.onFlush?.(); // 05: before the keys go, so watchers can tell which existed
    this.dirty++; // 05
    // 06: new tables rather than emptied ones: the live views keep reading the old.
    for (const view of this.views) view.detach();
    this.views.length = 0; // 06
    this.values = new Map();
    this.expires = new Map();
    this.keysWithDeadline = [];
    this.deletedWhileViewed = []; // 06
    this.tombstones = 0; // 06
    this.averageTtl = 0;
  }

  // ---- Deadlines ------------------------------------------------------------------------

  /** How many keys have a deadline (INFO's expires=). */
  get expiresCount(): number {
    return this.expires.size;
  }

  /** The key's deadline in Unix ms, or undefined if it has none. Look the key up first. */
  getDeadline(key: string): bigint | undefined {
    return this.expires.get(key)?.deadline;
  }

  /** Gives an existing key a deadline (absolute Unix ms), replacing any it had. */
  setDeadline(key: string, deadline: bigint): void {
    this.beforeChange(key); // 06
    this.changed(key); // 05
    const expiry = this.expires.get(key);
    if (expiry !== undefined) {
      expiry.deadline = deadline;
      return;
    }
    this.expires.set(key, { deadline, slot: this.keysWithDeadline.length });
    this.keysWithDeadline.push(key);
  }

  /** Makes a key persistent again. False if it had no deadline. */
  removeDeadline(key: string): boolean {
    if (this.expires.has(key)) this.beforeChange(key); // 06
    if (!this.dropDeadline(key)) return false;
    this.changed(key); // 05
    return true;
  }

  /**
   * 05: is the key stored but past its deadline (Redis's keyIsExpired)? Unlike an access,
   * asking does not delete it: WATCH wants to know without changing anything.
   */
  hasExpired(key: string): boolean {
    return this.isExpiredAt(key, this.clock.now());
  }

  /** 05: is the key stored, even past its deadline (Redis's dictFind on the main dict)? */
  isStored(key: string): boolean {
    const value = this.values.get(key);
    return value !== undefined && value !== DELETED; // 06
  }

  /**
   * 06: a point-in-time view for a snapshot, as fork gives Redis's child (frozen-view.ts).
   * Nothing is copied: the view walks the live table, and a key keeps its state as of the
   * view the first time it changes, until release() ends the view. Several can be live.
   */
  freeze(): { view: FrozenView; release: () => void } {
    const view = new FrozenView(this.values, this.expires, this.size, this.expires.size);
    this.views.push(view);
    const release = () => {
      const at = this.views.indexOf(view);
      if (at >= 0) this.views.splice(at, 1);
      if (this.views.length === 0) this.dropTombstones();
    };
    return { view, release };
  }

  /** 06: a key about to change: each live view keeps its state now, if it has none yet. */
  private beforeChange(key: string): void {
    if (this.views.length === 0) return;
    const value = this.values.get(key);
    const state = value === undefined || value === DELETED ? null : { key, value, deadline: this.expires.get(key)?.deadline ?? null };
    for (const view of this.views) view.keep(key, state);
  }

  /** 06: a value into the table; one that takes a DELETED place takes it back. */
  private store(key: string, value: string): void {
    if (this.tombstones > 0 && this.values.get(key) === DELETED) this.tombstones--;
    this.values.set(key, value);
  }

  /** 06: a key out of the table; while a view is live, its place stays, as DELETED. */
  private remove(key: string): boolean {
    if (this.views.length === 0) return this.values.delete(key);
    if (!this.isStored(key)) return false;
    this.values.set(key, DELETED);
    this.tombstones++;
    this.deletedWhileViewed.push(key);
    return true;
  }

  /** 06: the last view ended: the places deleted keys kept are let go. */
  private dropTombstones(): void {
    for (const key of this.deletedWhileViewed) if (this.values.get(key) === DELETED) this.values.delete(key);
    this.deletedWhileViewed = [];
    this.tombstones = 0;
  }

  /** 05: one change to the dataset: counted, and told to whoever listens. */
  private changed(key: string): void {
    this.dirty++;
    this.events.onModify?.(key);
  }

  private dropDeadline(key: string): boolean {
    const expiry = this.expires.get(key);
    if (expiry === undefined) return false;
    // Swap-remove: the last key takes the leaving key's slot, so removal is O(1).
    const last = this.keysWithDeadline.pop()!;
    if (last !== key) {
      this.keysWithDeadline[expiry.slot] = last;
      this.expires.get(last)!.slot = expiry.slot;
    }
    this.expires.delete(key);
    return true;
  }

  // ---- Expiry ---------------------------------------------------------------------------

  /** A key is expired once the clock is past its deadline (at the deadline it still lives). */
  private isExpiredAt(key: string, now: number): boolean {
    if (this.isLoading) return false; // 05
    const expiry = this.expires.get(key);
    return expiry !== undefined && now > expiry.deadline;
  }

  /** Lazy expiry: deletes the key if its deadline has passed. True if it did. */
  private expireIfDue(key: string): boolean {
    if (this.expires.size === 0 || !this.isExpiredAt(key, this.clock.now())) return false;
    this.expire(key);
    return true;
  }

  private expire(key: string): void {
    this.beforeChange(key); // 06
    this.dropDeadline(key); // 05: changed() below signals the change, once
    this.remove(key); // 06
    this.expiredKeys++;
    this.changed(key); // 05
    this.events.onExpire?.(key);
  }

  /**
   * Active expiry, one cycle: sample keys that have a deadline, delete the expired ones,
   * and go again while the sample says many more are probably expired, but never for
   * longer than the time budget, so clients are not kept waiting.
   */
  activeExpireCycle(): ExpireCycleReport {
    const report: ExpireCycleReport = { loops: 0, sampled: 0, expired: 0, timedOut: false };
    const start = this.clock.monotonic();
    while (this.keysWithDeadline.length > 0) {
      if (this.clock.monotonic() - start >= ACTIVE_EXPIRE.timeBudgetMs) {
        report.timedOut = true;
        this.timeCapReached++;
        break;
      }
      const sample = this.sampleKeysWithDeadline(ACTIVE_EXPIRE.keysPerLoop);
      const expired = this.expireSampled(sample);
      report.loops++;
      report.sampled += sample.length;
      report.expired += expired;
      if (expired * 100 <= sample.length * ACTIVE_EXPIRE.repeatAbovePercent) break;
    }
    if (this.keysWithDeadline.length === 0) this.averageTtl = 0;
    return report;
  }

  /** Deletes the sampled keys that are past their deadline; returns how many. */
  private expireSampled(sample: string[]): number {
    const now = this.clock.now();
    let expired = 0;
    let ttlSum = 0;
    for (const key of sample) {
      const deadline = this.expires.get(key)!.deadline;
      if (now > deadline) {
        this.expire(key);
        expired++;
      } else {
        ttlSum += Number(deadline) - now;
      }
    }
    const alive = sample.length - expired;
    if (alive > 0) this.updateAverageTtl(ttlSum / alive);
    return expired;
  }

  /** Like Redis: the new sample weighs 2%, the estimate so far 98%. */
  private updateAverageTtl(sampleAverage: number): void {
    if (this.averageTtl === 0) this.averageTtl = sampleAverage;
    this.averageTtl = Math.floor((this.averageTtl / 50) * 49 + sampleAverage / 50);
  }

  /**
   * Up to `count` distinct keys with a deadline, chosen uniformly at random: a partial
   * Fisher-Yates shuffle of the first `count` slots. Keys without a deadline are never in
   * this array, so however many of them there are, they cost the cycle nothing.
   */
  private sampleKeysWithDeadline(count: number): string[] {
    const keys = this.keysWithDeadline;
    if (keys.length <= count) return keys.slice();
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.random() * (keys.length - i));
      this.swapSlots(i, j);
    }
    return keys.slice(0, count);
  }

  private swapSlots(i: number, j: number): void {
    const keys = this.keysWithDeadline;
    const a = keys[i]!;
    const b = keys[j]!;
    keys[i] = b;
    keys[j] = a;
    this.expires.get(a)!.slot = j;
    this.expires.get(b)!.slot = i;
  }
}
