// 06: a point-in-time view of the keyspace, for a snapshot written while clients keep
// writing: copy-on-write, by hand.
//
// Redis forks for BGSAVE: the child sees memory exactly as it was at the fork, and the
// kernel copies a page only when the parent changes it. Node cannot fork a process with its
// heap, and copying a 1,000,000-key Map takes hundreds of milliseconds of blocked event
// loop. So the view does what the kernel does, per key instead of per page:
//
// - when the save starts, only the list of keys is copied (V8 copies a Map's keys into an
//   array in a few milliseconds for a million keys), not the values;
// - the keyspace tells the view before it changes a key (Keyspace.beforeChange), and the
//   first time that happens to a key, the view keeps the key's old state aside;
// - the save walks the list; for each key it writes the state kept aside, or the live one,
//   which has not changed since the view was taken (or it would have been kept aside).
//
// A FLUSHALL during the save gives the keyspace new, empty tables; the view keeps reading
// the old ones, which nothing changes any more (detach()).
import type { RdbEntry, RdbSnapshot } from '../lib/rdb.ts';

export class FrozenView implements RdbSnapshot {
  /** The state, as of the view, of each key changed since: the copy-on-write "pages". */
  private readonly kept = new Map<string, RdbEntry>();
  private detached = false;

  constructor(
    /** Every key the keyspace held when the view was taken. */
    private readonly keyList: readonly string[],
    /** How many of them had a deadline (RDB's RESIZEDB hint). */
    readonly expires: number,
    /** A key's live state, read from the tables as they were when the view was taken. */
    private readonly live: (key: string) => RdbEntry,
  ) {}

  /** How many keys the view holds (RDB's RESIZEDB hint). */
  get keys(): number {
    return this.keyList.length;
  }

  /** Each key's state as of the view, in the order the keyspace listed them. */
  get entries(): Iterable<RdbEntry> {
    return { [Symbol.iterator]: () => this.walk() };
  }

  /** Called before a key changes: its first old state since the view was taken is kept. */
  keep(entry: RdbEntry): void {
    if (this.detached || this.kept.has(entry.key)) return;
    this.kept.set(entry.key, entry);
  }

  /** The keyspace replaced its tables (FLUSHALL): the old ones are frozen as they are. */
  detach(): void {
    this.detached = true;
  }

  private *walk(): Generator<RdbEntry> {
    for (const key of this.keyList) yield this.kept.get(key) ?? this.live(key);
  }
}
