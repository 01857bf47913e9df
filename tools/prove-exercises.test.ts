// The exercise proof: pairing checks with reference and wrong solutions, building a
// solution, and (on a small repo of its own) the whole proof with real vitest runs: a
// reference that must pass (and type-check), step code and wrong solutions that must fail.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSolution, findExercises, hintProblems, patchedPaths, proveExercises, wrongName } from './prove-exercises.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

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

/** A patch to 01-echo/server.ts that turns `export const b = 2;` into `b = <value>`. */
const patchB = (value: string) => `diff --git a/01-echo/server.ts b/01-echo/server.ts
--- a/01-echo/server.ts
+++ b/01-echo/server.ts
@@ -1,2 +1,2 @@
 export const a = 1;
-export const b = 2;
+export const b = ${value};
`;
const PATCH = patchB('3');

describe('prove-exercises: pairing', () => {
  it('pairs each check with its reference and wrong solutions, and reports what is missing', async () => {
    const root = repo({
      '01-echo/exercises/1-shout.check.ts': '',
      '01-echo/exercises/2-count.check.ts': '',
      '01-echo/exercises/4-alone.check.ts': '',
      '01-echo/exercises/10-late.check.ts': '',
      'solutions/01-echo/1-shout.patch': PATCH,
      'solutions/01-echo/1-shout.wrong-utf8.patch': PATCH,
      'solutions/01-echo/1-shout.wrong-ascii-only.patch': PATCH,
      'solutions/01-echo/1-shout.hints.md': '## Hint 1\n\nLook at the bytes.\n',
      'solutions/01-echo/3-orphan.patch': PATCH,
      'solutions/01-echo/3-orphan.wrong-x.patch': PATCH,
      'solutions/01-echo/4-alone.wrong-guess.patch': PATCH,
    });
    expect(findExercises(root)).toEqual([
      {
        step: '01-echo',
        id: '1-shout',
        check: '01-echo/exercises/1-shout.check.ts',
        patch: 'solutions/01-echo/1-shout.patch',
        wrong: ['solutions/01-echo/1-shout.wrong-ascii-only.patch', 'solutions/01-echo/1-shout.wrong-utf8.patch'],
        hints: 'solutions/01-echo/1-shout.hints.md',
      },
      { step: '01-echo', id: '2-count', check: '01-echo/exercises/2-count.check.ts', wrong: [] },
      { step: '01-echo', id: '3-orphan', patch: 'solutions/01-echo/3-orphan.patch', wrong: ['solutions/01-echo/3-orphan.wrong-x.patch'] },
      { step: '01-echo', id: '4-alone', check: '01-echo/exercises/4-alone.check.ts', wrong: ['solutions/01-echo/4-alone.wrong-guess.patch'] },
      { step: '01-echo', id: '10-late', check: '01-echo/exercises/10-late.check.ts', wrong: [] },
    ]);
    expect(wrongName('solutions/01-echo/1-shout.wrong-ascii-only.patch')).toBe('wrong-ascii-only');

  });

  it('fails an exercise without a check, a reference or a wrong solution, before running anything', async () => {
    const root = repo({
      '01-echo/exercises/2-count.check.ts': '',
      'solutions/01-echo/3-orphan.patch': PATCH,
      'solutions/01-echo/3-orphan.wrong-x.patch': PATCH,
      'solutions/01-echo/3-orphan.hints.md': '## Hint 1\n\nx\n',
    });
    const lines: string[] = [];
    expect(await proveExercises(root, (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual([
      '01-echo ex 2-count: FAILED: check 01-echo/exercises/2-count.check.ts has no reference solution (expected solutions/01-echo/2-count.patch)',
      '01-echo ex 2-count: FAILED: needs at least one wrong solution, a plausible mistake its check rejects (expected solutions/01-echo/2-count.wrong-<what>.patch)',
      '01-echo ex 2-count: FAILED: has no hints (expected solutions/01-echo/2-count.hints.md, one "## Hint N" section each, given one at a time by make hint)',
      '01-echo ex 3-orphan: FAILED: solutions/01-echo/3-orphan.patch, solutions/01-echo/3-orphan.wrong-x.patch, solutions/01-echo/3-orphan.hints.md have no check (expected 01-echo/exercises/3-orphan.check.ts)',
      'exercises: 0 passed, 2 failed',
    ]);
  });

  it('says so when there are no exercises at all', async () => {
    const lines: string[] = [];
    expect(await proveExercises(repo({ 'README.md': '' }), (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual(['exercises: none found (no NN-step/exercises/*.check.ts, no solutions/NN-step/*.patch)']);
  });

  it('wants hints for every exercise with a check, as many as its EXERCISES.md says', () => {
    const section = (n: number, says: string) => `## Exercise ${n}: x\n\nCheck: \`make check STEP=01 EX=${n}\`\n\n${says}\n\n`;
    const root = repo({
      '01-echo/EXERCISES.md':
        '# Step 01 exercises\n\n`make hint STEP=01 EX=1` gives hints.\n\n' +
        section(1, 'Stuck? `make hint STEP=01 EX=1` gives the first of its 2 hints; run it again for the next.') +
        section(2, 'Stuck? `make hint STEP=01 EX=2` gives the first of its 3 hints; run it again for the next.') +
        section(3, 'No hints here.') +
        section(4, 'Stuck? `make hint STEP=01 EX=5` gives the first of its 1 hints.') +
        section(5, 'Stuck? `make hint STEP=01 EX=5` gives hints.') +
        section(7, 'Stuck? `make hint STEP=01 EX=7` gives the first of its 1 hints.'),
      'solutions/01-echo/1-good.hints.md': '# Hints\n\n## Hint 1\n\nGentle.\n\n## Hint 2\n\nLess gentle.\n',
      'solutions/01-echo/2-miscounted.hints.md': '## Hint 1\n\nOne.\n\n## Hint 2\n\nTwo.\n',
      'solutions/01-echo/3-unsaid.hints.md': '## Hint 1\n\nOne.\n',
      'solutions/01-echo/4-wrong-ex.hints.md': '## Hint 1\n\nOne.\n',
      'solutions/01-echo/5-uncounted.hints.md': '## Hint 1\n\nOne.\n',
      'solutions/01-echo/6-empty.hints.md': '# Hints\n\nNone yet.\n',
      'solutions/01-echo/7-skips.hints.md': '## Hint 1\n\nOne.\n\n## Hint 3\n\nThree.\n',
      ...Object.fromEntries(['1-good', '2-miscounted', '3-unsaid', '4-wrong-ex', '5-uncounted', '6-empty', '7-skips', '8-none'].map((id) => [`01-echo/exercises/${id}.check.ts`, ''])),
    });
    const problems = Object.fromEntries(findExercises(root).map((e) => [e.id, hintProblems(root, e)]));
    expect(problems).toEqual({
      '1-good': [],
      '2-miscounted': ['01-echo/EXERCISES.md, exercise 2 says 3 hints; solutions/01-echo/2-miscounted.hints.md holds 2'],
      '3-unsaid': ['01-echo/EXERCISES.md, exercise 3 does not say how to get its hints (`make hint STEP=01 EX=3`, and how many: 1)'],
      '4-wrong-ex': ['01-echo/EXERCISES.md, exercise 4 names `make hint STEP=01 EX=5`; its hints come from `make hint STEP=01 EX=4`'],
      '5-uncounted': ['01-echo/EXERCISES.md, exercise 5 does not say how many hints it has; solutions/01-echo/5-uncounted.hints.md holds 1'],
      '6-empty': ['solutions/01-echo/6-empty.hints.md holds no hint (a hint is a "## Hint 1" section)'],
      '7-skips': ['solutions/01-echo/7-skips.hints.md: "## Hint 3" where "## Hint 2" was expected'],
      '8-none': ['has no hints (expected solutions/01-echo/8-none.hints.md, one "## Hint N" section each, given one at a time by make hint)'],
    });
  });

  it('reads the paths a patch touches', () => {
    expect(patchedPaths(PATCH)).toEqual(['01-echo/server.ts']);
    expect(patchedPaths('--- /dev/null\n+++ b/01-echo/new.ts\n')).toEqual(['01-echo/new.ts']);
  });
});

const SOURCES = {
  '01-echo/server.ts': 'export const a = 1;\nexport const b = 2;\n',
  '01-echo/server.test.ts': 'test',
  '01-echo/exercises/1-x.check.ts': 'check',
  'lib/util.ts': 'export {};\n',
};

describe('prove-exercises: building a solution', () => {
  it('copies the step without its exercises, links lib, and applies the patch (prose before the diff is fine)', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': `Why this is the answer.\n\n${PATCH}` });
    const build = tempDir();
    expect(buildSolution(root, build, { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' })).toBeNull();
    const home = join(build, '01-echo', '1-x');
    expect(readFileSync(join(home, '01-echo/server.ts'), 'utf8')).toBe('export const a = 1;\nexport const b = 3;\n');
    expect(existsSync(join(home, '01-echo/server.test.ts')), 'tests come along, for the type check').toBe(true);
    expect(existsSync(join(home, '01-echo/exercises')), 'checks are not copied').toBe(false);
    expect(readFileSync(join(home, 'lib/util.ts'), 'utf8')).toBe('export {};\n');
    expect(readFileSync(join(root, '01-echo/server.ts'), 'utf8')).toContain('b = 2'); // the repo is untouched
  });

  it('fails loudly when a patch does not apply', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': PATCH.replace(' export const a = 1;', ' export const a = 7;') });
    const problem = buildSolution(root, tempDir(), { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' });
    expect(problem).toMatch(/^solutions\/01-echo\/1-x\.patch does not apply to 01-echo\/:\n.*01-echo\/server\.ts/s);
  });

  it('refuses a patch that touches files outside its step', () => {
    const root = repo({ ...SOURCES, 'solutions/01-echo/1-x.patch': PATCH.replaceAll('01-echo/server.ts', 'lib/util.ts') });
    expect(buildSolution(root, tempDir(), { step: '01-echo', id: '1-x', patch: 'solutions/01-echo/1-x.patch' })).toBe(
      'solutions/01-echo/1-x.patch touches files outside 01-echo/: lib/util.ts',
    );
  });
});

describe('prove-exercises: the proof, with vitest', () => {
  /**
   * A check as the real ones find their server: the build under EXERCISE_SOLUTIONS laid out
   * as test/helpers/servers.ts's serverPath() reads it, or else the step's own code. It
   * passes when b is 42.
   */
  const check = (id: string, step = '01-echo') => `import { join } from 'node:path';
import { expect, it } from 'vitest';
const builds = process.env.EXERCISE_SOLUTIONS;
const server = builds ? join(builds, '${step}', '${id}', '${step}', 'server.ts') : new URL('../server.ts', import.meta.url).pathname;
const { b } = await import(server);
it('b is 42', () => expect(b).toBe(42));
`;

  /**
   * Hints for every check among `files`, and an EXERCISES.md per step that states them, so
   * an exercise fails here only for what a test is about.
   */
  function withHints(files: Record<string, string>): Record<string, string> {
    const hinted: Record<string, string> = {};
    const sections = new Map<string, string[]>();
    for (const path of Object.keys(files)) {
      const m = /^(\d\d)(-[^/]+)\/exercises\/((\d+)-[^.]+)\.check\.ts$/.exec(path);
      if (m === null) continue;
      const [, number, rest, id, ex] = m;
      hinted[`solutions/${number}${rest}/${id}.hints.md`] = '## Hint 1\n\nA nudge.\n';
      const step = `${number}${rest}`;
      sections.set(step, [...(sections.get(step) ?? []), `## Exercise ${ex}: x\n\nStuck? \`make hint STEP=${number} EX=${ex}\` gives the first of its 1 hints.\n`]);
    }
    for (const [step, texts] of sections) hinted[`${step}/EXERCISES.md`] = `# Exercises\n\n${texts.join('\n')}`;
    return { ...hinted, ...files };
  }

  function exerciseRepo(files: Record<string, string>): string {
    files = withHints(files);
    const root = repo({
      'package.json': '{ "type": "module" }\n',
      'vitest.exercises.config.ts': readFileSync(join(REPO, 'vitest.exercises.config.ts'), 'utf8'),
      'tsconfig.json': readFileSync(join(REPO, 'tsconfig.json'), 'utf8'),
      '01-echo/server.ts': 'export const a = 1;\nexport const b = 2;\n',
      ...files,
    });
    mkdirSync(join(root, 'lib'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    return root;
  }

  it('proves the reference passes, the step code fails and every wrong solution fails; says which do not', async () => {
    const root = exerciseRepo({
      // Proven: the reference passes, the wrong one is rejected.
      '01-echo/exercises/1-good.check.ts': check('1-good'),
      'solutions/01-echo/1-good.patch': patchB('42'),
      'solutions/01-echo/1-good.wrong-off-by-one.patch': patchB('41'),
      // Not proven: a wrong solution the check lets through; a reference that fails, and a
      // wrong solution that does not even load (it proves nothing about the check).
      '01-echo/exercises/2-weak.check.ts': check('2-weak'),
      'solutions/01-echo/2-weak.patch': patchB('42'),
      'solutions/01-echo/2-weak.wrong-lucky.patch': patchB('40 + 2'),
      '01-echo/exercises/3-bad-ref.check.ts': check('3-bad-ref'),
      'solutions/01-echo/3-bad-ref.patch': patchB('7'),
      'solutions/01-echo/3-bad-ref.wrong-broken.patch': patchB('('),
      // Not proven: a step that already passes its check.
      '02-done/server.ts': 'export const b = 42;\n',
      '02-done/exercises/1-done.check.ts': check('1-done', '02-done'),
      'solutions/02-done/1-done.patch': '--- a/02-done/server.ts\n+++ b/02-done/server.ts\n@@ -1 +1 @@\n-export const b = 42;\n+export const b = 6 * 7;\n',
      'solutions/02-done/1-done.wrong-x.patch': '--- a/02-done/server.ts\n+++ b/02-done/server.ts\n@@ -1 +1 @@\n-export const b = 42;\n+export const b = 41;\n',
    });
    const lines: string[] = [];
    expect(await proveExercises(root, (l) => lines.push(l))).toBe(3);
    const report = lines.join('\n');
    expect(lines.slice(0, 2)).toEqual([
      '01-echo ex 1-good: the reference passes, the step code fails, its wrong solution fails',
      '    wrong-off-by-one: rejected by "b is 42"',
    ]);
    expect(report).toContain(
      '01-echo ex 2-weak: FAILED: wrong-lucky (solutions/01-echo/2-weak.wrong-lucky.patch) passes 01-echo/exercises/2-weak.check.ts: the check must reject this wrong solution',
    );
    expect(report).toContain(
      '01-echo ex 3-bad-ref: FAILED: wrong-broken (solutions/01-echo/3-bad-ref.wrong-broken.patch) is not rejected by a test of 01-echo/exercises/3-bad-ref.check.ts (it did not load or run?)',
    );
    expect(report).toMatch(/01-echo ex 3-bad-ref: FAILED: the reference solution does not pass its check 01-echo\/exercises\/3-bad-ref\.check\.ts:\n.*b is 42/);
    expect(report).toContain('02-done ex 1-done: FAILED: the step code already passes 02-done/exercises/1-done.check.ts: an exercise that is already solved proves nothing');
    expect(lines.at(-1)).toBe('exercises: 1 passed, 3 failed');
  });

  it('type-checks each built solution with its step tests, lib and node types: a reference that breaks make typecheck fails, so does a wrong one', async () => {
    const root = exerciseRepo({
      'lib/util.ts': 'export const one = 1;\n',
      // The step's test reads b as a number, through lib and node's types.
      '01-echo/server.test.ts': "import { join } from 'node:path';\nimport { one } from '../lib/util.ts';\nimport { b } from './server.ts';\nexport const doubled: number = b * 2 + one + join('a').length;\n",
      '01-echo/exercises/1-typed.check.ts': check('1-typed'),
      // Both pass or fail the check by their value; neither leaves b a number.
      'solutions/01-echo/1-typed.patch': patchB('42 as number | string'),
      'solutions/01-echo/1-typed.wrong-off.patch': patchB('41 as number | string'),
      // Proven, types and all.
      '01-echo/exercises/2-fine.check.ts': check('2-fine'),
      'solutions/01-echo/2-fine.patch': patchB('42'),
      'solutions/01-echo/2-fine.wrong-off.patch': patchB('41'),
    });
    const lines: string[] = [];
    expect(await proveExercises(root, (l) => lines.push(l))).toBe(1);
    const report = lines.join('\n');
    expect(report).toMatch(
      /^01-echo ex 1-typed: FAILED: the reference solution does not type-check: applied, it breaks make typecheck:\n {4}01-echo\/server\.test\.ts\(4,32\): error TS2362: /m,
    );
    expect(report).toMatch(/^01-echo ex 1-typed: FAILED: wrong-off \(solutions\/01-echo\/1-typed\.wrong-off\.patch\) does not type-check: a wrong solution is a mistake that compiles/m);
    expect(report).toContain('01-echo ex 2-fine: the reference passes, the step code fails, its wrong solution fails');
    expect(report, 'lib/, node:path and the step files resolve').not.toMatch(/TS2307|Cannot find/);
  });
});
