// The exercise proof's bookkeeping: pairing checks with patches, and building a solution
// (the vitest runs themselves are exercised by `make exercises` on the real steps).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSolution, findExercises, patchedPaths, proveExercises } from './prove-exercises.ts';

let dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'prove-exercises-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function repo(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const PATCH = `diff --git a/01-echo/server.ts b/01-echo/server.ts
--- a/01-echo/server.ts
+++ b/01-echo/server.ts
@@ -1,2 +1,2 @@
 export const a = 1;
-export const b = 2;
+export const b = 3;
`;

describe('prove-exercises', () => {
  it('pairs each check with its patch, and reports the unpaired ones', () => {
    const root = repo({
      '01-echo/exercises/1-shout.check.ts': '',
      '01-echo/exercises/2-count.check.ts': '',
      '01-echo/exercises/10-late.check.ts': '',
      'solutions/01-echo/1-shout.patch': PATCH,
      'solutions/01-echo/3-orphan.patch': PATCH,
    });
    expect(findExercises(root)).toEqual([
      { step: '01-echo', id: '1-shout', check: '01-echo/exercises/1-shout.check.ts', patch: 'solutions/01-echo/1-shout.patch' },
      { step: '01-echo', id: '2-count', check: '01-echo/exercises/2-count.check.ts' },
      { step: '01-echo', id: '3-orphan', patch: 'solutions/01-echo/3-orphan.patch' },
      { step: '01-echo', id: '10-late', check: '01-echo/exercises/10-late.check.ts' },
    ]);
    const lines: string[] = [];
    expect(proveExercises(root, (l) => lines.push(l))).toBeGreaterThanOrEqual(3);
    expect(lines).toContain('01-echo ex 2-count: FAILED: check 01-echo/exercises/2-count.check.ts has no solution (expected solutions/01-echo/2-count.patch)');
    expect(lines).toContain('01-echo ex 3-orphan: FAILED: solution solutions/01-echo/3-orphan.patch has no check (expected 01-echo/exercises/3-orphan.check.ts)');
  });

  it('says so when there are no exercises at all', () => {
    const lines: string[] = [];
    expect(proveExercises(repo({ 'README.md': '' }), (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual(['exercises: none found (no NN-step/exercises/*.check.ts, no solutions/NN-step/*.patch)']);
  });

  it('reads the paths a patch touches', () => {
    expect(patchedPaths(PATCH)).toEqual(['01-echo/server.ts']);
    expect(patchedPaths('--- /dev/null\n+++ b/01-echo/new.ts\n')).toEqual(['01-echo/new.ts']);
  });

  const SOURCES = {
    '01-echo/server.ts': 'export const a = 1;\nexport const b = 2;\n',
    '01-echo/server.test.ts': 'test',
    '01-echo/exercises/1-x.check.ts': 'check',
    'lib/util.ts': 'export {};\n',
  };

  it('builds a solution: the step copied without tests and exercises, lib linked, the patch applied', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': PATCH });
    const build = tempDir();
    expect(buildSolution(root, build, { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' })).toBeNull();
    const home = join(build, '01-echo', '1-x');
    expect(readFileSync(join(home, '01-echo/server.ts'), 'utf8')).toBe('export const a = 1;\nexport const b = 3;\n');
    expect(existsSync(join(home, '01-echo/server.test.ts'))).toBe(false);
    expect(existsSync(join(home, '01-echo/exercises'))).toBe(false);
    expect(readFileSync(join(home, 'lib/util.ts'), 'utf8')).toBe('export {};\n');
    expect(readFileSync(join(root, '01-echo/server.ts'), 'utf8')).toContain('b = 2'); // the repo is untouched
  });

  it('fails loudly when a patch does not apply', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': PATCH.replace(' export const a = 1;', ' export const a = 7;') });
    const problem = buildSolution(root, tempDir(), { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' });
    expect(problem).toMatch(/^patch does not apply to 01-echo\/:\n.*01-echo\/server\.ts/s);
  });

  it('refuses a patch that touches files outside its step', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': PATCH.replaceAll('01-echo/server.ts', 'lib/util.ts') });
    expect(buildSolution(root, tempDir(), { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' })).toBe(
      'patch touches files outside 01-echo/: lib/util.ts',
    );
  });
});
