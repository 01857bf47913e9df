// Latency percentiles in constant memory: a log-bucketed histogram in the style of Gil
// Tene's HdrHistogram. A benchmark records hundreds of thousands of latencies a second;
// keeping them all to sort at the end costs memory that grows with the run, and time. A
// histogram keeps a count per bucket instead, and answers "what is p99?" by walking the
// buckets until 99% of the counts are behind it.
//
// The trick is the bucket widths. Equal widths cannot serve both 30 µs and 3 s. Buckets
// that grow with the value can: every power of two (1-2 µs, 2-4 µs, 4-8 µs, ...) is cut
// into the same number of equal sub-buckets, so a bucket is never wider than a fixed
// fraction of the values in it. A value is known to within that fraction (the relative
// error), whether it is 30 µs or 3 s, and the memory is fixed when the histogram is made.

/** Sub-buckets per power of two: 2^7 = 128, so a value is known to within 1/128 (0.8%). */
export const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 2 ** SUB_BUCKET_BITS;

/** The largest value recorded as itself: 2^43 ns is about 2.4 hours. Beyond it, the top bucket. */
const VALUE_BITS = 43;
export const HIGHEST_TRACKABLE = 2 ** VALUE_BITS - 1;

/** Every value reported is at most this much above the value recorded (relative). */
export const RELATIVE_ERROR = 1 / SUB_BUCKETS;

/**
 * Counts of non-negative integers (the load generator records nanoseconds) in log-linear
 * buckets. Values below SUB_BUCKETS each have a bucket of their own; above, a bucket is
 * 1/SUB_BUCKETS of its power of two wide. Minimum, maximum and mean are kept exactly.
 */
export class Histogram {
  /** One count per bucket: SUB_BUCKETS exact ones, then SUB_BUCKETS per power of two. */
  private readonly counts = new Float64Array(SUB_BUCKETS * (VALUE_BITS - SUB_BUCKET_BITS + 1));
  count = 0;
  min = Infinity;
  max = 0;
  private sum = 0;

  record(value: number): void {
    const v = Math.min(Math.max(0, Math.round(value)), HIGHEST_TRACKABLE);
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's counts to this one (rounds of the same run, say). */
  add(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /**
   * The value below which `p` percent of the recorded values lie, by nearest rank (the
   * value at rank ceil(p% × count) in sorted order), as the highest value of its bucket:
   * never below the true one, at most RELATIVE_ERROR above it. 0 for an empty histogram.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = nearestRank(p, this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.max(this.min, Math.min(this.max, highestInBucket(i)));
    }
    return this.max;
  }

  /** How many buckets it holds: fixed, however many values it has seen. */
  get bucketCount(): number {
    return this.counts.length;
  }
}

/**
 * Which value, counting from 1 in sorted order, is the p-th percentile of `count`:
 * ceil(p% × count), at least 1. Rounded to 12 digits first, so that float noise cannot
 * push a whole rank to the next (99.9 / 100 * 1000 is 999.0000000000001).
 */
export function nearestRank(p: number, count: number): number {
  const exact = (Math.min(100, Math.max(0, p)) * count) / 100;
  return Math.max(1, Math.ceil(Number(exact.toPrecision(12))));
}

/**
 * The bucket of a value. Below SUB_BUCKETS: the value itself. Above: with 2^e the highest
 * power of two at most v, the top SUB_BUCKET_BITS + 1 bits of v say which of the
 * SUB_BUCKETS sub-buckets of [2^e, 2^(e+1)) it falls in.
 */
export function bucketOf(v: number): number {
  if (v < SUB_BUCKETS) return v;
  const e = highestBit(v);
  const shift = e - SUB_BUCKET_BITS;
  const top = Math.floor(v / 2 ** shift); // SUB_BUCKETS .. 2 * SUB_BUCKETS - 1
  return (shift + 1) * SUB_BUCKETS + (top - SUB_BUCKETS);
}

/** The highest value that falls in bucket `i`: what percentile() reports. */
export function highestInBucket(i: number): number {
  if (i < SUB_BUCKETS) return i;
  const shift = Math.floor(i / SUB_BUCKETS) - 1;
  const top = (i % SUB_BUCKETS) + SUB_BUCKETS;
  return (top + 1) * 2 ** shift - 1;
}

/** floor(log2(v)) for a positive integer up to 2^53, exact (Math.log2 may round up near a power of two). */
function highestBit(v: number): number {
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  return e;
}
