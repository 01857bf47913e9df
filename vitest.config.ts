import { defineConfig } from 'vitest/config';

// `make test` runs the step tests (*.test.ts). Exercise checks (*.check.ts) run on their
// own: `make check STEP=03 EX=1`, and tools/prove-exercises.ts in `make test`.
export default defineConfig({
  test: {
    include: ['[0-9][0-9]-*/**/*.test.ts', 'lib/**/*.test.ts', 'test/**/*.test.ts', 'tools/**/*.test.ts'],
    exclude: ['**/node_modules/**', '.exercise-build/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
