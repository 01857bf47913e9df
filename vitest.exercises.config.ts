import { defineConfig } from 'vitest/config';

// Exercise checks: each fails until its exercise is solved. See README "Exercises".
export default defineConfig({
  test: {
    include: ['[0-9][0-9]-*/exercises/*.check.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
