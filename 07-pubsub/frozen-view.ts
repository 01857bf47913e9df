// 06: a point-in-time view of the keyspace, for a snapshot written while clients keep
// writing: copy-on-write, by hand.
//
// Redis forks for BGSAVE: the child sees memory exactly as it was at the fork, and the
// kernel copies a page only when the parent changes it. Node cannot fork a process with its
// heap, and copying a 1,000,000-key Map takes over a second of blocked event loop. Even a
// copy of the key list stops the loop for tens of milliseconds. So the view copies
// nothing: it walks the keyspace's live table, and does what the kernel does, per key
// instead of per page:
//
// - before a key changes (a write, a delete, an expiry, a new deadline), the keyspace tells
//   every live view, and the first time that happens to a key, the view keeps the key's
//   state as of the view: its entry, or "did not exist" for a key created since;
// - the walk goes through the table in its order (a Map iterates in insertion order, and
//   survives changes made between two steps of the walk): for a key the view kept, it
//   writes the kept state (or nothing, for a key that did not exist); for any other key,
//   the live state, which has not changed since the view was taken (or it would have been
//   kept);
// - nothing moves while a view is live: a deleted key stays in its place as a tombstone
//   (DELETED), and a key set again takes that same place, so the walk meets every key
//   exactly once. (A Map moves a key deleted and set again to its end, and forgets a deleted
//   one: the walk could not tell whether it had already written it.) Keys created after
//   the view come after every key it has, and the walk stops once it has written as many
//   keys as the table held when the view was taken.
//
// Several views can be live at once (a BGSAVE and, from step 08, a full sync to a replica),
// each with its own kept states. A FLUSHALL gives the keyspace new tables; the views keep
// walking the old ones, which nothing changes any more (detach()).
import type { RdbEntry, RdbSnapshot } from '../lib/rdb.ts';

/** The value a key deleted while a view is live keeps in its place in the table. */
export const DELETED: unique symbol = Symbol('deleted while a frozen view is live');

/** The keyspace's table of values: a key's value, or DELETED (see above). */
export type ValueTable = ReadonlyMap<string, string | typeof DELETED>;
/** The keyspace's deadlines, by key. */
export type DeadlineTable = ReadonlyMap<string, { readonly deadline: bigint }>;

/** What a view keeps of a key changed since it was taken: its entry, or null if it did not exist. */
type KeptState = RdbEntry | null;

export class FrozenView implements RdbSnapshot {
  /** The state, as of the view, of each key changed since: the copy-on-write "pages". */
  private readonly kept = new Map<string, KeptState>();
  private detached = false;
  private walked = false;

  constructor(
    /** The keyspace's tables, read as they are while the walk goes. */
    private readonly values: ValueTable,
    private readonly deadlines: DeadlineTable,
    /** How many keys the view holds, and how many of them have a deadline (RESIZEDB hints). */
    readonly keys: number,
    readonly expires: number,
  ) {}

  /** Each key's state as of the view, in the table's order. */
  get entries(): Iterable<RdbEntry> {
    return { [Symbol.iterator]: () => this.walk() };
  }

  /** Called before a key changes, with its state now: the first one since the view is kept. */
  keep(key: string, state: KeptState): void {
    if (this.detached || this.walked || this.kept.has(key)) return;
    this.kept.set(key, state);
  }

  /** The keyspace replaced its tables (FLUSHALL): the old ones are frozen as they are. */
  detach(): void {
    this.detached = true;
  }

  private *walk(): Generator<RdbEntry> {
    let written = 0;
    for (const [key, value] of this.values) {
      if (written === this.keys) break; // the rest was created after the view
      const kept = this.kept.size === 0 ? undefined : this.kept.get(key);
      if (kept === null) continue; // created after the view
      if (kept === undefined && value === DELETED) continue; // deleted before the view
      written++;
      yield kept ?? { key, value: value as string, deadline: this.deadlines.get(key)?.deadline ?? null };
    }
    this.walked = true;
  }
}
