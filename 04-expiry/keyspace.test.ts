// The keyspace on its own, with a fake clock: lazy expiry, the active cycle's sampling, its
// stopping rule and its time budget. No server, no sockets, no sleeping.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { ACTIVE_EXPIRE, Keyspace } from './keyspace.ts';

/** A small seeded generator (mulberry32), so sampling is random but the same every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setup(): { clock: FakeClock; db: Keyspace } {
  const clock = new FakeClock(1_700_000_000_000);
  return { clock, db: new Keyspace(clock, { random: seededRandom(42) }) };
}

/** Stores `count` keys named prefix0, prefix1, ..., dying `ttlMs` from now (or never). */
function fill(db: Keyspace, clock: FakeClock, prefix: string, count: number, ttlMs?: number): void {
  for (let i = 0; i < count; i++) {
    db.set(`${prefix}${i}`, 'v');
    if (ttlMs !== undefined) db.setDeadline(`${prefix}${i}`, BigInt(clock.now() + ttlMs));
  }
}

describe('lazy expiry', () => {
  it('keeps a key up to its deadline and deletes it on the first access after', () => {
    const { clock, db } = setup();
    db.set('k', 'v');
    db.setDeadline('k', BigInt(clock.now() + 1000));
    clock.advance(1000);
    expect(db.get('k')).toBe('v'); // at the deadline the key still lives, as in Redis
    clock.advance(1);
    expect(db.size).toBe(1); // nobody has looked yet
    expect(db.get('k')).toBeUndefined();
    expect(db.size).toBe(0);
    expect(db.expiredKeys).toBe(1);
    expect(db.expiresCount).toBe(0);
  });

  it('expires on has() and delete() too, and an expired key is not "deleted"', () => {
    const { clock, db } = setup();
    fill(db, clock, 'k', 2, 10);
    clock.advance(11);
    expect(db.has('k0')).toBe(false);
    expect(db.delete('k1')).toBe(false); // DEL of an expired key answers 0
    expect(db.expiredKeys).toBe(2);
  });

  it('skips expired keys in keys() but leaves them for the cycle, as Redis 7.0 KEYS does', () => {
    const { clock, db } = setup();
    fill(db, clock, 'dying', 3, 10);
    fill(db, clock, 'staying', 2);
    clock.advance(11);
    expect([...db.keys()].sort()).toEqual(['staying0', 'staying1']);
    expect(db.size).toBe(5);
    expect(db.expiredKeys).toBe(0);
  });

  it('forgets a deadline on set(), keeps it on update()', () => {
    const { clock, db } = setup();
    fill(db, clock, 'k', 2, 10);
    db.set('k0', 'new');
    db.update('k1', 'new');
    expect(db.getDeadline('k0')).toBeUndefined();
    expect(db.getDeadline('k1')).toBe(BigInt(clock.now() + 10));
    expect(db.expiresCount).toBe(1);
  });

  it('keeps its sampling index right through any mix of adds and removals', () => {
    const { clock, db } = setup();
    const random = seededRandom(7);
    const model = new Set<string>();
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(random() * 200)}`;
      const roll = random();
      if (roll < 0.4) {
        db.set(key, 'v');
        db.setDeadline(key, BigInt(clock.now() + 10));
        model.add(key);
      } else if (roll < 0.6) {
        db.removeDeadline(key);
        model.delete(key);
      } else if (roll < 0.8) {
        db.set(key, 'v');
        model.delete(key);
      } else {
        db.delete(key);
        model.delete(key);
      }
    }
    expect(db.expiresCount).toBe(model.size);
    clock.advance(11);
    const report = db.activeExpireCycle();
    // Every key the model says has a deadline is found and deleted, and nothing else.
    expect(report.expired).toBe(model.size);
    expect(db.expiresCount).toBe(0);
    for (const key of model) expect(db.has(key)).toBe(false);
  });
});

describe('the onExpire hook', () => {
  it('hears of every key that expires, lazily or actively, and of no other deletion', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const expired: string[] = [];
    const db = new Keyspace(clock, { onExpire: (key) => expired.push(key) });
    fill(db, clock, 'k', 3, 10);
    db.set('plain', 'v');
    db.delete('k2'); // deleted before its deadline: not an expiry
    db.delete('plain');
    clock.advance(11);
    db.get('k0'); // lazy
    db.activeExpireCycle(); // active: k1
    expect(expired).toEqual(['k0', 'k1']);
  });
});

describe('active expiry', () => {
  it('reclaims keys nobody reads: 10,000 expired keys are gone after one cycle', () => {
    const { clock, db } = setup();
    fill(db, clock, 'session:', 10_000, 500);
    fill(db, clock, 'user:', 100);
    clock.advance(501);
    const report = db.activeExpireCycle();
    expect(report).toEqual({ loops: 500, sampled: 10_000, expired: 10_000, timedOut: false });
    expect(db.size).toBe(100);
    expect(db.expiredKeys).toBe(10_000);
  });

  it('never samples keys without a deadline, however many there are', () => {
    const { clock, db } = setup();
    fill(db, clock, 'user:', 10_000);
    expect(db.activeExpireCycle()).toEqual({ loops: 0, sampled: 0, expired: 0, timedOut: false });
    fill(db, clock, 'session:', 5, 10);
    clock.advance(11);
    expect(db.activeExpireCycle()).toEqual({ loops: 1, sampled: 5, expired: 5, timedOut: false });
    expect(db.size).toBe(10_000);
  });

  it('stops after one loop when few sampled keys had expired', () => {
    const { clock, db } = setup();
    fill(db, clock, 'dying', 50, 10);
    fill(db, clock, 'living', 950, 60_000);
    clock.advance(11);
    const report = db.activeExpireCycle();
    expect(report.loops).toBe(1); // 5% stale: a sample of 20 almost surely has few of them
    expect(report.sampled).toBe(ACTIVE_EXPIRE.keysPerLoop);
    expect(db.size).toBeGreaterThan(950);
  });

  it('keeps looping while more than a quarter of the sample had expired', () => {
    const { clock, db } = setup();
    fill(db, clock, 'dying', 900, 10);
    fill(db, clock, 'living', 100, 60_000);
    clock.advance(11);
    const report = db.activeExpireCycle();
    expect(report.loops).toBeGreaterThan(10);
    // It stopped because the stale share fell, not because it ran out of keys or time.
    expect(report.timedOut).toBe(false);
    expect(db.expiresCount).toBeGreaterThan(100);
  });

  it('reclaims every expired key over enough cycles', () => {
    const { clock, db } = setup();
    fill(db, clock, 'dying', 100, 10);
    fill(db, clock, 'living', 900, 3_600_000);
    clock.advance(11);
    let cycles = 0;
    while (db.expiresCount > 900 && cycles < 10_000) {
      db.activeExpireCycle();
      cycles++;
    }
    expect(db.size).toBe(900);
    expect(db.expiredKeys).toBe(100);
  });

  it('respects its time budget when every sample takes time', () => {
    const { clock, db } = setup();
    fill(db, clock, 'k', 10_000, 10);
    clock.advance(11);
    clock.monotonicStepPerRead = 1; // each budget check finds 1 ms more gone
    const report = db.activeExpireCycle();
    expect(report.timedOut).toBe(true);
    expect(report.loops).toBeLessThan(ACTIVE_EXPIRE.timeBudgetMs);
    expect(report.expired).toBe(report.loops * ACTIVE_EXPIRE.keysPerLoop);
    expect(db.timeCapReached).toBe(1);
    expect(db.size).toBe(10_000 - report.expired);
  });

  it('measures its budget on the monotonic clock, not the wall clock', () => {
    const { clock, db } = setup();
    fill(db, clock, 'k', 1000, 10);
    clock.setWallClock(clock.now() + 3_600_000); // the wall clock jumps an hour
    const report = db.activeExpireCycle();
    expect(report.timedOut).toBe(false); // no time passed for the budget
    expect(db.size).toBe(0); // but the deadlines, absolute, are all past
  });

  it('estimates the average time to live of keys with a deadline', () => {
    const { clock, db } = setup();
    fill(db, clock, 'k', 100, 10_000);
    db.activeExpireCycle();
    expect(db.averageTtl).toBe(10_000);
    db.clear();
    expect(db.averageTtl).toBe(0);
  });
});
