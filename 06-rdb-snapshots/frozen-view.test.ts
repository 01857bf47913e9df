// The frozen view on its own: a Keyspace, a fake clock, no server. Whatever happens to the
// keys while views walk the table (overwrites, deletes, a key deleted and set again,
// deadlines set, removed and passed, lazy and active expiry, FLUSHALL), each view writes
// exactly the keyspace of the moment it was taken: every key once, nothing created since.
// Several views at once, taken at different moments. And the seam the snapshot code writes
// through (writeSnapshot): a sink that makes the encoder wait, as a replica's socket will.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import type { RdbEntry } from '../lib/rdb.ts';
import { decodeRdb } from '../lib/rdb-decoder.ts';
import { RdbEncoder } from '../lib/rdb-encoder.ts';
import type { FrozenView } from './frozen-view.ts';
import { Keyspace } from './keyspace.ts';
import { writeSnapshot, type SnapshotSink } from './rdb.ts';

const START = 1_900_000_000_000;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']; // few, so keys come back often

/** What a snapshot holds: [key, value, deadline], sorted by key. */
type Dataset = Array<[string, string, string]>;

const sorted = (entries: Iterable<RdbEntry>): Dataset =>
  [...entries].map((e) => [e.key, e.value, String(e.deadline)] as [string, string, string]).sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * The keyspace as a plain Map, changed as the Keyspace is changed: what a snapshot taken
 * now must hold. Keys past their deadline stay in it until something deletes them, as in
 * the keyspace (an RDB holds them too; loading skips them).
 */
class Model {
  readonly keys = new Map<string, { value: string; deadline: bigint | null }>();

  dataset(): Dataset {
    return sorted([...this.keys].map(([key, { value, deadline }]) => ({ key, value, deadline })));
  }
}

type Op =
  | { op: 'set' | 'update'; key: string; value: string }
  | { op: 'delete' | 'get' | 'persist'; key: string }
  | { op: 'expire'; key: string; inMs: number }
  | { op: 'time'; ms: number }
  | { op: 'cycle' }
  | { op: 'flush' }
  | { op: 'freeze' }
  | { op: 'walk'; view: number; entries: number };

const key = fc.constantFrom(...KEYS);
const anOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('set' as const, 'update' as const), key, value: fc.string({ maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('delete' as const, 'get' as const, 'persist' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('expire' as const), key, inMs: fc.integer({ min: -5, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'cycle' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'freeze' as const }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('walk' as const), view: fc.nat(3), entries: fc.integer({ min: 1, max: 3 }) }) },
);

/** A view being walked: what it has written so far, and what it must write in the end. */
interface Walk {
  view: FrozenView;
  release: () => void;
  iterator: Iterator<RdbEntry>;
  written: RdbEntry[];
  expected: Dataset;
  done: boolean;
}

function step(op: Op, db: Keyspace, model: Model, clock: FakeClock, walks: Walk[]): void {
  const now = BigInt(clock.now());
  const stored = (k: string) => model.keys.get(k);
  switch (op.op) {
    case 'set':
      db.set(op.key, op.value);
      model.keys.set(op.key, { value: op.value, deadline: null });
      break;
    case 'update': // APPEND, INCR: the deadline stays
      db.update(op.key, op.value);
      model.keys.set(op.key, { value: op.value, deadline: stored(op.key)?.deadline ?? null });
      break;
    case 'delete':
      db.delete(op.key);
      model.keys.delete(op.key);
      break;
    case 'get': {
      // A read deletes a key past its deadline (lazy expiry), and answers as if it were gone.
      const entry = stored(op.key);
      const expired = entry !== undefined && entry.deadline !== null && entry.deadline < now;
      expect(db.get(op.key)).toBe(expired ? undefined : entry?.value);
      if (expired) model.keys.delete(op.key);
      break;
    }
    case 'persist':
      if (db.isStored(op.key)) db.removeDeadline(op.key);
      if (stored(op.key) !== undefined) stored(op.key)!.deadline = null;
      break;
    case 'expire':
      if (!db.isStored(op.key)) break;
      db.setDeadline(op.key, now + BigInt(op.inMs));
      stored(op.key)!.deadline = now + BigInt(op.inMs);
      break;
    case 'time':
      clock.advance(op.ms);
      break;
    case 'cycle':
      // The cycle deletes keys past their deadline, a random sample of them: the model
      // follows the keyspace, and checks it only deleted expired keys.
      db.activeExpireCycle();
      for (const [k, { deadline }] of [...model.keys]) {
        if (db.isStored(k)) continue;
        expect(deadline !== null && deadline < now, `the cycle deleted ${k}, which was not expired`).toBe(true);
        model.keys.delete(k);
      }
      break;
    case 'flush':
      db.clear();
      model.keys.clear();
      break;
    case 'freeze': {
      const { view, release } = db.freeze();
      expect(view.keys).toBe(model.keys.size);
      expect(view.expires).toBe([...model.keys.values()].filter((e) => e.deadline !== null).length);
      walks.push({ view, release, iterator: view.entries[Symbol.iterator](), written: [], expected: model.dataset(), done: false });
      break;
    }
    case 'walk': {
      const walk = walks[op.view % Math.max(1, walks.length)];
      if (walk === undefined) break;
      for (let i = 0; i < op.entries && !walk.done; i++) pull(walk);
      break;
    }
  }
}

function pull(walk: Walk): void {
  const next = walk.iterator.next();
  if (next.done === true) walk.done = true;
  else walk.written.push(next.value);
}

describe('FrozenView: each view writes the keyspace of its moment', () => {
  it('whatever changes while one view or several walk the table', () => {
    fc.assert(
      fc.property(fc.array(anOp, { minLength: 1, maxLength: 120 }), fc.array(fc.constantFrom(...KEYS), { maxLength: 8 }), (ops, initial) => {
        const clock = new FakeClock(START);
        const db = new Keyspace(clock);
        const model = new Model();
        for (const k of initial) step({ op: 'set', key: k, value: 'initial' }, db, model, clock, []);
        const walks: Walk[] = [];
        for (const op of ops) step(op, db, model, clock, walks);
        for (const walk of walks) {
          while (!walk.done) pull(walk);
          expect(sorted(walk.written), 'a view wrote its own moment: every key once, none created since').toEqual(walk.expected);
        }
        for (const walk of walks) walk.release();
        // Once no view is live, deleted keys' places are gone, and the keyspace is the model.
        expect(db.size).toBe(model.keys.size);
        expect([...db.keys()].sort()).toEqual([...model.keys].filter(([, e]) => e.deadline === null || e.deadline >= BigInt(clock.now())).map(([k]) => k).sort());
        const { view, release } = db.freeze();
        expect(sorted(view.entries)).toEqual(model.dataset());
        release();
      }),
      { numRuns: 400 },
    );
  });

  it('a key deleted and set again while the view walks is written once, with its old value', () => {
    const clock = new FakeClock(START);
    const db = new Keyspace(clock);
    for (const k of ['x', 'y', 'z']) db.set(k, 'old');
    const { view, release } = db.freeze();
    const walk = view.entries[Symbol.iterator]();
    expect(walk.next().value).toEqual({ key: 'x', value: 'old', deadline: null });
    db.delete('x'); // behind the walk
    db.set('x', 'new');
    db.delete('z'); // ahead of it
    db.set('z', 'new');
    db.set('w', 'created since');
    const rest = [...{ [Symbol.iterator]: () => walk }];
    expect(rest).toEqual([{ key: 'y', value: 'old', deadline: null }, { key: 'z', value: 'old', deadline: null }]);
    release();
    expect(db.size).toBe(4);
  });

  it('a deleted key is gone for clients while its place is kept for the view', () => {
    const clock = new FakeClock(START);
    const db = new Keyspace(clock);
    db.set('a', '1');
    db.set('b', '2');
    const { release } = db.freeze();
    expect(db.delete('a')).toBe(true);
    expect(db.delete('a')).toBe(false);
    expect([db.get('a'), db.has('a'), db.isStored('a'), db.size, [...db.keys()]]).toEqual([undefined, false, false, 1, ['b']]);
    release();
    expect([db.size, [...db.keys()]]).toEqual([1, ['b']]);
  });
});

/** A sink that holds each slice until the test lets it through, as a full socket would. */
class HeldSink implements SnapshotSink {
  readonly slices: Buffer[] = [];
  private letThrough: (() => void) | null = null;

  write(slice: Buffer): Promise<void> {
    expect(this.letThrough, 'a slice was written before the sink took the last one').toBeNull();
    this.slices.push(slice);
    return new Promise((resolve) => (this.letThrough = resolve));
  }

  get waiting(): boolean {
    return this.letThrough !== null;
  }

  release(): void {
    const resolve = this.letThrough;
    this.letThrough = null;
    resolve?.();
  }

  dataset(): Dataset {
    return sorted([...decodeRdb(Buffer.concat(this.slices))].filter((e): e is { type: 'entry' } & RdbEntry => e.type === 'entry'));
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('writeSnapshot: a view into a sink, a slice per turn, at the sink\'s pace', () => {
  it('waits for a sink that is full, and two views taken at different moments, written at once, each hold their own', async () => {
    const clock = new FakeClock(START);
    const db = new Keyspace(clock);
    for (let i = 0; i < 40; i++) db.set(`k${i}`, `v${i}`);
    db.setDeadline('k5', BigInt(START + 100));
    const model = new Model();
    for (let i = 0; i < 40; i++) model.keys.set(`k${i}`, { value: `v${i}`, deadline: i === 5 ? BigInt(START + 100) : null });

    const first = db.freeze();
    const firstSink = new HeldSink();
    const firstExpected = model.dataset();
    const firstEncoder = new RdbEncoder(first.view, { ctime: 0 });
    const firstDone = writeSnapshot(firstEncoder, firstSink, 3, () => false).finally(first.release);

    // A transaction's worth of changes, a key deleted and set again, one created and
    // deleted, a deadline set and passed.
    const changesBetween = () => {
      db.set('k0', 'changed');
      db.delete('k1');
      db.set('k1', 'back again');
      db.set('new', 'x');
      db.delete('new');
      db.update('k2', 'v2+');
      db.setDeadline('k3', BigInt(clock.now() + 10));
    };
    await turn();
    expect(firstSink.waiting).toBe(true);
    const written = firstEncoder.entriesWritten;
    await turn();
    await turn();
    expect(firstEncoder.entriesWritten, 'the encoder waits while the sink is full').toBe(written);
    changesBetween();
    model.keys.set('k0', { value: 'changed', deadline: null });
    model.keys.set('k1', { value: 'back again', deadline: null });
    model.keys.set('k2', { value: 'v2+', deadline: null });
    model.keys.get('k3')!.deadline = BigInt(clock.now() + 10);

    const second = db.freeze();
    const secondSink = new HeldSink();
    const secondExpected = model.dataset();
    const secondDone = writeSnapshot(new RdbEncoder(second.view, { ctime: 0 }), secondSink, 5, () => false).finally(second.release);

    // Both walk while the keyspace keeps changing; neither sink ever takes two slices at once.
    let round = 0;
    let finished = 0;
    void firstDone.then(() => finished++);
    void secondDone.then(() => finished++);
    while (finished < 2) {
      if (round % 3 === 0) db.set(`k${round % 40}`, `round ${round}`);
      if (round % 4 === 1) db.delete(`k${(round * 7) % 40}`);
      if (round % 5 === 2) db.set(`k${(round * 7) % 40}`, 're-added');
      if (round === 6) clock.advance(200); // k3 and k5 pass their deadlines...
      if (round === 7) db.activeExpireCycle(); // ...and the cycle deletes them
      firstSink.release();
      if (round % 2 === 0) secondSink.release(); // the second sink is the slower one
      round++;
      await turn();
    }
    await Promise.all([firstDone, secondDone]);
    expect(firstSink.dataset()).toEqual(firstExpected);
    expect(secondSink.dataset()).toEqual(secondExpected);
    expect(secondExpected).not.toEqual(firstExpected);
  });

  it('keeps walking the old tables after a FLUSHALL, and holds what was there before it', async () => {
    const clock = new FakeClock(START);
    const db = new Keyspace(clock);
    for (let i = 0; i < 20; i++) db.set(`k${i}`, 'v');
    const probe = db.freeze();
    const before = sorted(probe.view.entries);
    probe.release();
    const { view, release } = db.freeze();
    const sink = new HeldSink();
    const done = writeSnapshot(new RdbEncoder(view, { ctime: 0 }), sink, 2, () => false).finally(release);
    await turn();
    db.delete('k0');
    db.clear();
    db.set('k1', 'after the flush');
    while (sink.waiting) {
      sink.release();
      await turn();
      await turn();
    }
    await done;
    expect(sink.dataset()).toEqual(before);
    expect(db.size).toBe(1);
  });
});
