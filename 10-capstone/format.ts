// How figures are written in the table, the report and the chart.

/** A latency in nanoseconds, with a unit that keeps it short: 8.3 µs, 431 µs, 3.21 ms, 1.20 s. */
export function formatLatency(ns: number): string {
  const us = ns / 1e3;
  if (us < 10) return `${us.toFixed(1)} µs`;
  if (us < 1000) return `${Math.round(us)} µs`;
  const ms = us / 1e3;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1e3).toFixed(2)} s`;
}

/** 123456 -> "123,456". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** ours / theirs, as "0.84×". */
export function formatRatio(ours: number, theirs: number): string {
  if (theirs === 0) return '-';
  return `${(ours / theirs).toFixed(2)}×`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
