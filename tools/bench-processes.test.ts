import { describe, expect, it } from 'vitest';
import { cpuSeconds, cpuTicksOf, median, rssBytes } from './bench-processes.ts';

describe('what a process has used, from /proc', () => {
  it('reads utime + stime after the command name, whatever the name holds', () => {
    const fields = 'S 1 1 1 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 5000';
    expect(cpuTicksOf(`42 (node) ${fields}`)).toBe(1234 + 567);
    expect(cpuTicksOf(`42 (a (b) c) ${fields}`)).toBe(1234 + 567);
  });

  it('reads this process: CPU time that only grows, and resident memory', () => {
    const before = cpuSeconds(process.pid);
    const until = performance.now() + 50;
    while (performance.now() < until);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
    expect(rssBytes(process.pid)).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('takes the median of the rounds', () => {
    expect([median([3, 1, 2]), median([5]), median([4, 1, 3, 2])]).toEqual([2, 5, 3]);
  });
});
