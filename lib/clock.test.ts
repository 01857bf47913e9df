import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, systemClock } from './clock.ts';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads Unix milliseconds and a monotonic clock', () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const a = systemClock.monotonic();
    expect(systemClock.monotonic()).toBeGreaterThanOrEqual(a);
  });

  it('runs a periodic task until cancelled', () => {
    vi.useFakeTimers();
    const runs: number[] = [];
    const cancel = systemClock.every(100, () => runs.push(runs.length));
    vi.advanceTimersByTime(250);
    expect(runs).toEqual([0, 1]);
    cancel();
    vi.advanceTimersByTime(1000);
    expect(runs).toEqual([0, 1]);
  });

  it('runs a one-shot task once, when it is due, unless cancelled first', () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    systemClock.after(100, () => runs.push('kept'));
    const cancel = systemClock.after(100, () => runs.push('cancelled'));
    vi.advanceTimersByTime(99);
    expect(runs).toEqual([]);
    cancel();
    vi.advanceTimersByTime(1000);
    expect(runs).toEqual(['kept']);
  });
});

describe('FakeClock', () => {
  it('stands still until advanced, and moves both clocks together', () => {
    const clock = new FakeClock(1_000_000);
    expect(clock.now()).toBe(1_000_000);
    expect(clock.monotonic()).toBe(0);
    clock.advance(250);
    expect(clock.now()).toBe(1_000_250);
    expect(clock.monotonic()).toBe(250);
  });

  it('runs due tasks in order, each at its own time', () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.every(100, () => seen.push(`fast@${clock.monotonic()}`));
    clock.every(250, () => seen.push(`slow@${clock.monotonic()}`));
    clock.advance(300);
    expect(seen).toEqual(['fast@100', 'fast@200', 'slow@250', 'fast@300']);
  });

  it('stops running a cancelled task', () => {
    const clock = new FakeClock();
    let runs = 0;
    const cancel = clock.every(10, () => runs++);
    clock.advance(30);
    expect(clock.scheduledTasks).toBe(1);
    cancel();
    expect(clock.scheduledTasks).toBe(0);
    clock.advance(100);
    expect(runs).toBe(3);
  });

  it('can make every monotonic read take time, to model slow work', () => {
    const clock = new FakeClock(0);
    clock.monotonicStepPerRead = 5;
    expect([clock.monotonic(), clock.monotonic(), clock.monotonic()]).toEqual([0, 5, 10]);
    expect(clock.now()).toBe(15);
  });

  it('can step the wall clock alone, as NTP would, leaving monotonic time alone', () => {
    const clock = new FakeClock(1000);
    clock.setWallClock(5000);
    expect(clock.now()).toBe(5000);
    expect(clock.monotonic()).toBe(0);
  });

  it('runs a one-shot task once, at its time, in order with the periodic ones', () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.every(100, () => seen.push(`tick@${clock.monotonic()}`));
    clock.after(150, () => seen.push(`once@${clock.monotonic()}`));
    clock.after(200, () => seen.push(`at-tick@${clock.monotonic()}`));
    expect(clock.scheduledTasks).toBe(3);
    clock.advance(500);
    // Due together at 200: the periodic task was scheduled first, so it runs first.
    expect(seen).toEqual(['tick@100', 'once@150', 'tick@200', 'at-tick@200', 'tick@300', 'tick@400', 'tick@500']);
    expect(clock.scheduledTasks).toBe(1);
  });

  it('never runs a one-shot task cancelled before it was due', () => {
    const clock = new FakeClock(0);
    let runs = 0;
    const cancel = clock.after(50, () => runs++);
    clock.advance(49);
    cancel();
    clock.advance(100);
    expect(runs).toBe(0);
    expect(clock.scheduledTasks).toBe(0);
  });

  it('runs a one-shot task that a task schedules, when it falls due within the same advance', () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    // A retry with a pause: each attempt schedules the next, as a reconnect with backoff does.
    const attempt = (): void => {
      seen.push(clock.monotonic());
      if (seen.length < 3) clock.after(100, attempt);
    };
    clock.after(10, attempt);
    clock.advance(1000);
    expect(seen).toEqual([10, 110, 210]);
  });

  it('runs a 0 ms one-shot task at the next advance, even advance(0)', () => {
    const clock = new FakeClock(0);
    let runs = 0;
    clock.after(0, () => runs++);
    expect(runs).toBe(0);
    clock.advance(0);
    expect(runs).toBe(1);
  });

  it('refuses a zero interval, which would never let time move on', () => {
    expect(() => new FakeClock().every(0, () => {})).toThrow(RangeError);
  });
});
