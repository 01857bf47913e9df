// Real Redis, for differential tests and as the reference (TARGET=redis). Its programs
// are found on PATH. Without them, tests that need them skip with a reason; with
// REQUIRE_REDIS=1 (as CI runs) a missing Redis fails instead.
import { describe } from 'vitest';
import { REQUIRE_REDIS, onPath, type RedisTool } from './redis-programs.ts';

export { REQUIRE_REDIS, hasTool, onPath, startRealRedis, type RealRedis, type RedisTool } from './redis-programs.ts';

/**
 * `describe` for a suite that needs these Redis programs: runs it when they are on PATH;
 * otherwise skips it with a one-line reason, or fails it under REQUIRE_REDIS=1.
 */
export function describeWithRedis(tools: RedisTool[], name: string, body: () => void): void {
  describeWithPrograms(tools, name, body, 'install Redis: apt-get install redis-server redis-tools');
}

/**
 * The same for any programs CI installs (nc: `install` says how): run, skip with the reason,
 * or, under REQUIRE_REDIS=1, fail.
 */
export function describeWithPrograms(programs: string[], name: string, body: () => void, install: string): void {
  const missing = programs.filter((p) => !onPath(p));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `${missing.join(', ')} not found on PATH (${install})`;
  if (REQUIRE_REDIS) {
    describe(name, () => {
      throw new Error(`REQUIRE_REDIS=1 but ${reason}`);
    });
    return;
  }
  describe.skip(`${name} [skipped: ${reason}]`, body);
}
