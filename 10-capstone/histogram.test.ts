// The histogram against the exact answer: every percentile of a set of samples, sorted,
// by nearest rank. The histogram may report a value above the exact one, never below, and
// never by more than its relative error.
import { describe, expect, it } from 'vitest';
import { HIGHEST_TRACKABLE, Histogram, RELATIVE_ERROR, bucketOf, highestInBucket, nearestRank } from './histogram.ts';

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exact percentile: the sample at its nearest rank, in sorted order. */
function exactPercentile(sorted: readonly number[], p: number): number {
  return sorted[nearestRank(p, sorted.length) - 1]!;
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100];

/** Latency-shaped samples in nanoseconds: a log-normal body around 50 µs, and stalls. */
function latencies(n: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const body = Math.round(50_000 * Math.exp(0.6 * normal));
    return next() < 0.001 ? body + Math.round(next() * 200e6) : body;
  });
}

function expectWithinError(reported: number, exact: number, what: string): void {
  expect(reported, `${what}: reported ${reported}, exact ${exact}`).toBeGreaterThanOrEqual(exact);
  expect(reported, `${what}: reported ${reported}, exact ${exact}`).toBeLessThanOrEqual(exact * (1 + RELATIVE_ERROR));
}

describe('Histogram', () => {
  const distributions: Array<[string, number[]]> = [
    ['latency-shaped, 200,000 samples', latencies(200_000, 1)],
    ['uniform over 1 ns .. 10 s', Array.from({ length: 50_000 }, ((next) => () => 1 + Math.floor(next() * 1e10))(random(2)))],
    ['small integers (exact buckets)', Array.from({ length: 10_000 }, ((next) => () => Math.floor(next() * 300))(random(3)))],
    ['one value', [123_456]],
    ['two values far apart', [40_000, 2_000_000_000]],
  ];

  for (const [name, samples] of distributions) {
    it(`gives every percentile within its relative error: ${name}`, () => {
      const histogram = new Histogram();
      for (const v of samples) histogram.record(v);
      const sorted = [...samples].sort((a, b) => a - b);
      for (const p of PERCENTILES) expectWithinError(histogram.percentile(p), exactPercentile(sorted, p), `p${p}`);
      expect(histogram.count).toBe(samples.length);
      expect(histogram.min).toBe(sorted[0]);
      expect(histogram.max).toBe(sorted.at(-1));
      expect(histogram.percentile(100)).toBe(sorted.at(-1));
      expect(histogram.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / samples.length, 3);
    });
  }

  it('ranks percentiles as ceil(p% × count), float noise aside', () => {
    expect([nearestRank(99.9, 1000), nearestRank(99, 1000), nearestRank(50, 3), nearestRank(50, 4)]).toEqual([999, 990, 2, 2]);
    expect([nearestRank(0, 10), nearestRank(100, 10), nearestRank(99.99, 10), nearestRank(0.01, 10)]).toEqual([1, 10, 10, 1]);
    for (let n = 1; n <= 2000; n++) expect(nearestRank(99.9, n)).toBe(Math.ceil((999 * n) / 1000));
  });

  it('records values below 256 exactly', () => {
    const histogram = new Histogram();
    for (let v = 0; v < 256; v++) histogram.record(v);
    for (let v = 0; v < 256; v++) expect(histogram.percentile(((v + 1) / 256) * 100)).toBe(v);
  });

  it('keeps its memory fixed however many values it sees', () => {
    const histogram = new Histogram();
    const buckets = histogram.bucketCount;
    for (const v of latencies(100_000, 4)) histogram.record(v);
    histogram.record(HIGHEST_TRACKABLE * 10);
    expect(histogram.bucketCount).toBe(buckets);
    expect(buckets).toBeLessThan(5000);
    // A value past the top is counted, in the top bucket, and is the maximum.
    expect(histogram.max).toBe(HIGHEST_TRACKABLE);
  });

  it('adds two histograms into the one of all their values', () => {
    const [a, b, both] = [new Histogram(), new Histogram(), new Histogram()];
    const first = latencies(20_000, 5);
    const second = latencies(20_000, 6).map((v) => v * 3);
    for (const v of first) (a.record(v), both.record(v));
    for (const v of second) (b.record(v), both.record(v));
    a.add(b);
    for (const p of PERCENTILES) expect(a.percentile(p)).toBe(both.percentile(p));
    expect([a.count, a.min, a.max]).toEqual([both.count, both.min, both.max]);
  });

  it('is empty until something is recorded', () => {
    const histogram = new Histogram();
    expect([histogram.count, histogram.percentile(99), histogram.mean]).toEqual([0, 0, 0]);
  });

  it('puts every value in a bucket whose range holds it, each bucket no wider than the error allows', () => {
    const next = random(7);
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const v = Math.floor(2 ** (next() * 43));
      const bucket = bucketOf(v);
      const highest = highestInBucket(bucket);
      const lowest = bucket === 0 ? 0 : highestInBucket(bucket - 1) + 1;
      const tooWide = highest - lowest + 1 > Math.max(1, lowest * RELATIVE_ERROR);
      if (v < lowest || v > highest || tooWide) wrong.push(`${v} in bucket ${bucket} [${lowest}, ${highest}]`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
