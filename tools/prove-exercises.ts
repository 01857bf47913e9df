// Proves the exercises (`make exercises`, part of `make test`): for every exercise, its
// reference solution must pass its check, and the step code as shipped must fail it (an
// exercise that is already solved proves nothing).
//
// How: each solutions/NN-step/N-slug.patch is applied to a copy of its step folder in a
// build directory laid out as test/helpers/servers.ts's serverPath() expects:
//
//   <build>/<NN-step>/<N-slug>/<NN-step>/server.ts   (the patched copy)
//   <build>/<NN-step>/<N-slug>/lib -> <repo>/lib     (so ../lib/*.ts still resolves)
//
// then every check runs twice with vitest: once with EXERCISE_SOLUTIONS=<build> (each check
// starts its solution's server: all must pass), once without (each check file must fail).
//
// Usage: npx tsx tools/prove-exercises.ts
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';

export interface Exercise {
  /** The step folder, e.g. 03-get-set. */
  step: string;
  /** The exercise's number and slug, e.g. 1-setrange. */
  id: string;
  /** Repo-relative paths; undefined when missing (a problem). */
  check?: string;
  patch?: string;
}

/** Pairs every NN-step/exercises/ID.check.ts with solutions/NN-step/ID.patch. */
export function findExercises(root: string): Exercise[] {
  const byKey = new Map<string, Exercise>();
  const entry = (step: string, id: string) => {
    const key = `${step}/${id}`;
    if (!byKey.has(key)) byKey.set(key, { step, id });
    return byKey.get(key)!;
  };
  const dirs = (dir: string) =>
    existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d\d-/.test(e.name)).map((e) => e.name) : [];
  const files = (dir: string, suffix: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(suffix)) : []);

  for (const step of dirs(root)) {
    for (const file of files(join(root, step, 'exercises'), '.check.ts')) {
      entry(step, file.slice(0, -'.check.ts'.length)).check = `${step}/exercises/${file}`;
    }
  }
  for (const step of dirs(join(root, 'solutions'))) {
    for (const file of files(join(root, 'solutions', step), '.patch')) {
      entry(step, file.slice(0, -'.patch'.length)).patch = `solutions/${step}/${file}`;
    }
  }
  return [...byKey.values()].sort((a, b) => a.step.localeCompare(b.step) || compareIds(a.id, b.id));
}

/** "2-x" before "10-y": exercises sort by number, then slug. */
function compareIds(a: string, b: string): number {
  return (parseInt(a, 10) || 0) - (parseInt(b, 10) || 0) || a.localeCompare(b);
}

/** The files a patch touches, as written after a/ and b/ (without the prefix). */
export function patchedPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const m of patch.matchAll(/^(?:---|\+\+\+) (\S+)/gm)) {
    const path = m[1]!;
    if (path === '/dev/null') continue;
    paths.add(path.replace(/^[ab]\//, ''));
  }
  return [...paths];
}

/**
 * Builds one exercise's solution: copies its step folder (code only) and applies the patch.
 * Returns null, or why it could not.
 */
export function buildSolution(root: string, buildRoot: string, exercise: Exercise & { patch: string }): string | null {
  const patchText = readFileSync(join(root, exercise.patch), 'utf8');
  const outside = patchedPaths(patchText).filter((p) => !p.startsWith(`${exercise.step}/`));
  if (outside.length > 0) return `patch touches files outside ${exercise.step}/: ${outside.join(', ')}`;

  const home = join(buildRoot, exercise.step, exercise.id);
  mkdirSync(home, { recursive: true });
  cpSync(join(root, exercise.step), join(home, exercise.step), {
    recursive: true,
    filter: (src) => {
      const name = basename(src);
      return !(name === 'exercises' || name === 'data' || name === 'node_modules' || name.endsWith('.test.ts'));
    },
  });
  symlinkSync(join(root, 'lib'), join(home, 'lib'), 'dir');
  // Outside the repo there is no package.json saying "type": "module"; without one, a check
  // that runs the build as a child process (spawnStep) would load it as CommonJS and fail.
  writeFileSync(join(home, 'package.json'), '{ "type": "module" }\n');

  // git apply works as a plain patch tool outside a repository, and refuses fuzz.
  const applied = spawnSync('git', ['apply', '--whitespace=nowarn', resolve(root, exercise.patch)], { cwd: home, encoding: 'utf8' });
  if (applied.error) return `could not run git apply: ${applied.error.message}`;
  if (applied.status !== 0) return `patch does not apply to ${exercise.step}/:\n${indent(applied.stderr.trim())}`;
  return null;
}

/** What vitest's JSON reporter says about one test file. */
interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults: Array<{ status: string; fullName: string; failureMessages: string[] }>;
}

/** Runs the given check files once; returns each file's result by repo-relative path. */
export function runChecks(root: string, checks: readonly string[], solutions: string | undefined, outputFile: string): Map<string, FileResult> {
  const env = { ...process.env };
  delete env.TARGET; // the proof is about the step code and the solutions, never real Redis
  delete env.EXERCISE_SOLUTIONS;
  if (solutions !== undefined) env.EXERCISE_SOLUTIONS = solutions;
  const vitest = spawnSync(
    join(root, 'node_modules/.bin/vitest'),
    ['run', '--config', 'vitest.exercises.config.ts', '--reporter=json', `--outputFile=${outputFile}`, ...checks],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (!existsSync(outputFile)) {
    throw new Error(`vitest produced no report (exit ${vitest.status}):\n${indent((vitest.stderr || vitest.stdout || String(vitest.error)).trim())}`);
  }
  const report = JSON.parse(readFileSync(outputFile, 'utf8')) as { testResults: FileResult[] };
  return new Map(report.testResults.map((r) => [relative(root, r.name).split('\\').join('/'), r]));
}

/** Passing means: the file ran, at least one test passed, and none failed. */
function passed(result: FileResult | undefined): boolean {
  return (
    result !== undefined &&
    result.status === 'passed' &&
    result.assertionResults.some((a) => a.status === 'passed') &&
    result.assertionResults.every((a) => a.status !== 'failed')
  );
}

function failures(result: FileResult | undefined): string {
  if (result === undefined) return indent('(vitest did not report on this file)');
  const messages = result.assertionResults
    .filter((a) => a.status === 'failed')
    .map((a) => `${a.fullName}:\n${indent(a.failureMessages.join('\n').split('\n').slice(0, 12).join('\n'))}`);
  if (messages.length === 0 && result.message) messages.push(result.message.split('\n').slice(0, 12).join('\n'));
  if (messages.length === 0) {
    messages.push(
      result.assertionResults.some((a) => a.status === 'passed')
        ? 'its tests pass but the file failed: a beforeAll/afterAll hook (a server.close() that hangs?) or an error outside the tests'
        : `no test passed (status: ${result.status})`,
    );
  }
  return indent(messages.join('\n'));
}

const indent = (text: string) => text.replace(/^/gm, '    ');

/** Proves every exercise; prints one line per exercise and a total. Returns the failure count. */
export function proveExercises(root: string, print: (line: string) => void = console.log): number {
  const exercises = findExercises(root);
  if (exercises.length === 0) {
    print('exercises: none found (no NN-step/exercises/*.check.ts, no solutions/NN-step/*.patch)');
    return 0;
  }
  const label = (e: Exercise) => `${e.step} ex ${e.id}`;
  const verdicts = new Map<Exercise, string | null>(); // null: proven so far
  const buildRoot = mkdtempSync(join(tmpdir(), 'exercise-solutions-'));
  try {
    for (const e of exercises) {
      if (e.check === undefined) verdicts.set(e, `solution ${e.patch} has no check (expected ${e.step}/exercises/${e.id}.check.ts)`);
      else if (e.patch === undefined) verdicts.set(e, `check ${e.check} has no solution (expected solutions/${e.step}/${e.id}.patch)`);
      else verdicts.set(e, buildSolution(root, buildRoot, e as Exercise & { patch: string }));
    }
    const runnable = exercises.filter((e) => verdicts.get(e) === null);
    if (runnable.length > 0) {
      const checks = runnable.map((e) => e.check!);
      const solved = runChecks(root, checks, buildRoot, join(buildRoot, 'solved.json'));
      const unsolved = runChecks(root, checks, undefined, join(buildRoot, 'unsolved.json'));
      for (const e of runnable) {
        const withSolution = solved.get(e.check!);
        const withStepCode = unsolved.get(e.check!);
        if (!passed(withSolution)) {
          verdicts.set(e, `the solution does not pass its check ${e.check}:\n${failures(withSolution)}`);
        } else if (withStepCode === undefined || withStepCode.status !== 'failed') {
          verdicts.set(e, `the step code already passes ${e.check}: an exercise that is already solved proves nothing`);
        }
      }
    }
  } finally {
    rmSync(buildRoot, { recursive: true, force: true });
  }

  let failed = 0;
  for (const e of exercises) {
    const verdict = verdicts.get(e);
    if (verdict === null) print(`${label(e)}: solution passes, step code fails as it should`);
    else {
      failed++;
      print(`${label(e)}: FAILED: ${verdict}`);
    }
  }
  print(`exercises: ${exercises.length - failed} passed, ${failed} failed`);
  return failed;
}

if (isMain(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  try {
    process.exitCode = proveExercises(root) === 0 ? 0 : 1;
  } catch (err) {
    console.error(`exercises: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
