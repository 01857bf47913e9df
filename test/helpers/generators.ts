// Random inputs the property tests share (fast-check arbitraries).
import fc from 'fast-check';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** Any bytes as a latin1 string, usually short, sometimes long enough to span many chunks. */
export const binaryString = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }).map(latin1) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 5000 }).map(latin1) },
);
