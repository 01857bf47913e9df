// Time, as the servers see it. Two kinds of time, for two jobs:
//
// - now(): wall-clock Unix milliseconds. Deadlines ("this key dies at ...") are points on
//   this clock, because they are stored and sent (AOF, RDB, replication) and must mean the
//   same instant after a restart or on another machine.
// - monotonic(): milliseconds from an arbitrary origin that never jumps back. Durations
//   ("this cycle has run for 25 ms", "fsync once a second") are measured on it, because the
//   wall clock can be stepped by NTP or an administrator at any moment.
//
// Timed work is scheduled through the clock too: periodic work with every() (the active
// expiry cycle, a once-a-second fsync), and work due once with after() (a timeout, a retry
// after a pause). A test holds a FakeClock and decides exactly when time passes and what
// runs, with no sleeps.
import { performance } from 'node:perf_hooks';

/** Stops a scheduled task: a periodic one runs no more, a one-shot one never runs. */
export type Cancel = () => void;

export interface Clock {
  /** Wall-clock time: Unix milliseconds. */
  now(): number;
  /** Monotonic time in milliseconds (performance.now-like); only differences mean anything. */
  monotonic(): number;
  /** Runs `task` every `intervalMs` milliseconds until cancelled. */
  every(intervalMs: number, task: () => void): Cancel;
  /** Runs `task` once, `ms` milliseconds from now, unless cancelled first. */
  after(ms: number, task: () => void): Cancel;
}

/** The real clock. Its timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  every(intervalMs, task) {
    const timer = setInterval(task, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
  after(ms, task) {
    const timer = setTimeout(task, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface FakeTask {
  /** How often it runs; null for a one-shot task, which leaves the schedule once it ran. */
  intervalMs: number | null;
  dueAt: number; // on the monotonic clock
  task: () => void;
}

/**
 * A clock for tests: time stands still until advance() moves it, and advance() runs the
 * tasks that fall due on the way, periodic and one-shot alike, in the order of their due
 * times. Set `monotonicStepPerRead` to model work that takes time: every monotonic() read
 * then moves both clocks forward by that much.
 */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private tasks = new Set<FakeTask>();
  monotonicStepPerRead = 0;

  constructor(startUnixMs = Date.UTC(2030, 0, 1)) {
    this.wall = startUnixMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    const reading = this.mono;
    if (this.monotonicStepPerRead > 0) this.move(this.monotonicStepPerRead);
    return reading;
  }

  every(intervalMs: number, task: () => void): Cancel {
    if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
    return this.schedule({ intervalMs, dueAt: this.mono + intervalMs, task });
  }

  after(ms: number, task: () => void): Cancel {
    // A timer of 0 ms (or less, as setTimeout allows) runs at the next advance(), even advance(0).
    return this.schedule({ intervalMs: null, dueAt: this.mono + Math.max(0, ms), task });
  }

  /** How many tasks, periodic or one-shot, are scheduled and not cancelled. */
  get scheduledTasks(): number {
    return this.tasks.size;
  }

  /** Moves time forward by `ms`, running every task that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.mono + ms;
    for (let next = this.nextDue(target); next !== undefined; next = this.nextDue(target)) {
      this.move(Math.max(0, next.dueAt - this.mono));
      if (next.intervalMs === null) this.tasks.delete(next);
      else next.dueAt += next.intervalMs;
      next.task();
    }
    // A task that read a stepping monotonic clock may already have carried time past the target.
    this.move(Math.max(0, target - this.mono));
  }

  /** Sets the wall clock without moving monotonic time, as an NTP step would. */
  setWallClock(unixMs: number): void {
    this.wall = unixMs;
  }

  private schedule(entry: FakeTask): Cancel {
    this.tasks.add(entry);
    return () => this.tasks.delete(entry);
  }

  private move(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  private nextDue(limit: number): FakeTask | undefined {
    let earliest: FakeTask | undefined;
    // Tasks due at the same moment run in the order they were scheduled (the set's order).
    for (const t of this.tasks) if (t.dueAt <= limit && (earliest === undefined || t.dueAt < earliest.dueAt)) earliest = t;
    return earliest;
  }
}
