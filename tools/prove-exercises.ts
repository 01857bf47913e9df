// Proves the exercises (`make exercises`, part of `make test`). For every exercise:
//   - its reference solution must pass its check;
//   - the step code as shipped must fail it (an exercise that is already solved proves
//     nothing);
//   - each of its plausible wrong solutions must fail it too (a check that a wrong answer
//     passes teaches the wrong thing), and it needs at least one.
//
// The files: NN-step/exercises/ID.check.ts, solutions/NN-step/ID.patch (the reference) and
// solutions/NN-step/ID.wrong-WHAT.patch (a wrong solution, WHAT naming the mistake).
//
// How: each patch is applied to a copy of its step folder, laid out as
// test/helpers/servers.ts's serverPath() expects under one build root:
//
//   <build root>/<NN-step>/<ID>/<NN-step>/server.ts   (the patched copy)
//   <build root>/<NN-step>/<ID>/lib -> <repo>/lib     (so ../lib/*.ts still resolves)
//
// A build root holds at most one solution per exercise, so the solutions are built in
// rounds: one root for the references, one for every exercise's first wrong solution, one
// for the second, and so on. Each round is one vitest run over the checks of the exercises
// it holds, with EXERCISE_SOLUTIONS=<its root>; one more run without it tries the step code.
// The runs go side by side: most of their time is spent waiting for replies that a wrong
// server never sends.
//
// Usage: npx tsx tools/prove-exercises.ts
import { spawn, spawnSync } from 'node:child_process';
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
  /** Repo-relative paths of its wrong solutions, sorted; none is a problem. */
  wrong: string[];
}

const WRONG_PATCH = /^(.+)\.(wrong-[^.]+)\.patch$/;

/** Pairs every NN-step/exercises/ID.check.ts with solutions/NN-step/ID.patch and ID.wrong-*.patch. */
export function findExercises(root: string): Exercise[] {
  const byKey = new Map<string, Exercise>();
  const entry = (step: string, id: string) => {
    const key = `${step}/${id}`;
    if (!byKey.has(key)) byKey.set(key, { step, id, wrong: [] });
    return byKey.get(key)!;
  };
  const dirs = (dir: string) =>
    existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d\d-/.test(e.name)).map((e) => e.name) : [];
  const files = (dir: string, suffix: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(suffix)).sort() : []);

  for (const step of dirs(root)) {
    for (const file of files(join(root, step, 'exercises'), '.check.ts')) {
      entry(step, file.slice(0, -'.check.ts'.length)).check = `${step}/exercises/${file}`;
    }
  }
  for (const step of dirs(join(root, 'solutions'))) {
    for (const file of files(join(root, 'solutions', step), '.patch')) {
      const path = `solutions/${step}/${file}`;
      const wrong = WRONG_PATCH.exec(file);
      if (wrong) entry(step, wrong[1]!).wrong.push(path);
      else entry(step, file.slice(0, -'.patch'.length)).patch = path;
    }
  }
  return [...byKey.values()].sort((a, b) => a.step.localeCompare(b.step) || compareIds(a.id, b.id));
}

/** "2-x" before "10-y": exercises sort by number, then slug. */
function compareIds(a: string, b: string): number {
  return (parseInt(a, 10) || 0) - (parseInt(b, 10) || 0) || a.localeCompare(b);
}

/** What a wrong solution is called in the report: "wrong-ascii-only" for ID.wrong-ascii-only.patch. */
export const wrongName = (patch: string): string => WRONG_PATCH.exec(basename(patch))?.[2] ?? basename(patch);

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

/** One solution to build: an exercise and one of its patches (reference or wrong). */
export interface Build {
  step: string;
  id: string;
  /** Repo-relative path of the patch. */
  patch: string;
}

/**
 * Builds one solution under `buildRoot`: copies its step folder (code only) and applies the
 * patch. Returns null, or why it could not.
 */
export function buildSolution(root: string, buildRoot: string, build: Build): string | null {
  const patchText = readFileSync(join(root, build.patch), 'utf8');
  const outside = patchedPaths(patchText).filter((p) => !p.startsWith(`${build.step}/`));
  if (outside.length > 0) return `${build.patch} touches files outside ${build.step}/: ${outside.join(', ')}`;

  const home = join(buildRoot, build.step, build.id);
  mkdirSync(home, { recursive: true });
  cpSync(join(root, build.step), join(home, build.step), {
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
  const applied = spawnSync('git', ['apply', '--whitespace=nowarn', resolve(root, build.patch)], { cwd: home, encoding: 'utf8' });
  if (applied.error) return `could not run git apply: ${applied.error.message}`;
  if (applied.status !== 0) return `${build.patch} does not apply to ${build.step}/:\n${indent(applied.stderr.trim())}`;
  return null;
}

/** What vitest's JSON reporter says about one test file. */
export interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults: Array<{ status: string; title: string; fullName: string; failureMessages: string[] }>;
}

/**
 * Check files run side by side in each vitest run, whatever the number of CPUs (vitest's
 * default on a 2-CPU machine is one at a time): against a wrong solution, a check spends
 * most of its time waiting for a reply that never comes.
 */
const WORKERS_PER_RUN = 4;

/**
 * Runs the given check files once, with EXERCISE_SOLUTIONS=`solutions` (or the step code
 * when undefined); resolves with each file's result by repo-relative path.
 */
export async function runChecks(root: string, checks: readonly string[], solutions: string | undefined, outputFile: string): Promise<Map<string, FileResult>> {
  const env = { ...process.env };
  delete env.TARGET; // the proof is about the step code and the solutions, never real Redis
  delete env.EXERCISE_SOLUTIONS;
  if (solutions !== undefined) env.EXERCISE_SOLUTIONS = solutions;
  const vitest = spawn(
    join(root, 'node_modules/.bin/vitest'),
    ['run', '--config', 'vitest.exercises.config.ts', `--maxWorkers=${WORKERS_PER_RUN}`, '--reporter=json', `--outputFile=${outputFile}`, ...checks],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  vitest.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  vitest.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = await new Promise<string>((done) => {
    vitest.once('error', (err) => done(err.message));
    vitest.once('close', (code, signal) => done(`exit ${code ?? signal}`));
  });
  if (!existsSync(outputFile)) throw new Error(`vitest produced no report (${exit}):\n${indent(output.trim())}`);
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

/** The names of the tests that failed: what rejected a wrong solution. */
const failedTests = (result: FileResult | undefined): string[] =>
  (result?.assertionResults ?? []).filter((a) => a.status === 'failed').map((a) => a.title);

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
  return indent(plain(messages.join('\n')));
}

const indent = (text: string) => text.replace(/^/gm, '    ');
/** vitest colours some messages (a parse error's frame); the report is plain text. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** One vitest run: the solutions built under `buildRoot` (none: the step code), one per exercise. */
interface Round {
  buildRoot?: string;
  members: Array<{ exercise: Exercise; patch?: string }>;
}

/** What the proof found about one exercise. */
interface Verdict {
  problems: string[];
  /** For each wrong solution its check rejected: the first test that failed. */
  rejected: Array<{ name: string; by: string }>;
}

/** Problems that need no vitest run: a missing check, reference or wrong solution. */
function pairingProblems(e: Exercise): string[] {
  const patches = [e.patch, ...e.wrong].filter((p) => p !== undefined);
  if (e.check === undefined) return [`${patches.join(', ')} ${patches.length === 1 ? 'has' : 'have'} no check (expected ${e.step}/exercises/${e.id}.check.ts)`];
  const problems: string[] = [];
  if (e.patch === undefined) problems.push(`check ${e.check} has no reference solution (expected solutions/${e.step}/${e.id}.patch)`);
  if (e.wrong.length === 0) {
    problems.push(`needs at least one wrong solution, a plausible mistake its check rejects (expected solutions/${e.step}/${e.id}.wrong-<what>.patch)`);
  }
  return problems;
}

/**
 * The rounds for the exercises that have a check and a reference: the references, the step
 * code, then the k-th wrong solution of every exercise that has k of them. Builds every
 * solution; a patch that cannot be built is a problem of its exercise and stays out.
 */
function planRounds(root: string, exercises: Exercise[], verdicts: Map<Exercise, Verdict>, workDir: string): Round[] {
  const provable = exercises.filter((e) => e.check !== undefined && e.patch !== undefined);
  const builtInto = (buildRoot: string, pick: (e: Exercise) => string | undefined): Round => {
    const round: Round = { buildRoot, members: [] };
    for (const exercise of provable) {
      const patch = pick(exercise);
      if (patch === undefined) continue;
      const problem = buildSolution(root, buildRoot, { step: exercise.step, id: exercise.id, patch });
      if (problem === null) round.members.push({ exercise, patch });
      else verdicts.get(exercise)!.problems.push(problem);
    }
    return round;
  };
  const rounds = [builtInto(join(workDir, 'reference'), (e) => e.patch), { members: provable.map((exercise) => ({ exercise })) }];
  const mostWrong = Math.max(0, ...provable.map((e) => e.wrong.length));
  for (let k = 0; k < mostWrong; k++) rounds.push(builtInto(join(workDir, `wrong-${k + 1}`), (e) => e.wrong[k]));
  return rounds.filter((r) => r.members.length > 0);
}

/** Judges one exercise's result in one round, adding to its verdict. */
function judge(verdict: Verdict, e: Exercise, patch: string | undefined, result: FileResult | undefined): void {
  if (patch === undefined) {
    // The step code as shipped.
    if (result === undefined || result.status !== 'failed') {
      verdict.problems.push(`the step code already passes ${e.check}: an exercise that is already solved proves nothing`);
    }
  } else if (patch === e.patch) {
    if (!passed(result)) verdict.problems.push(`the reference solution does not pass its check ${e.check}:\n${failures(result)}`);
  } else {
    const name = wrongName(patch);
    const by = failedTests(result)[0];
    if (by !== undefined) verdict.rejected.push({ name, by });
    else if (passed(result)) verdict.problems.push(`${name} (${patch}) passes ${e.check}: the check must reject this wrong solution`);
    else verdict.problems.push(`${name} (${patch}) is not rejected by a test of ${e.check} (it did not load or run?):\n${failures(result)}`);
  }
}

/** Proves every exercise; prints what it found and a total. Resolves with the failure count. */
export async function proveExercises(root: string, print: (line: string) => void = console.log): Promise<number> {
  const exercises = findExercises(root);
  if (exercises.length === 0) {
    print('exercises: none found (no NN-step/exercises/*.check.ts, no solutions/NN-step/*.patch)');
    return 0;
  }
  const verdicts = new Map<Exercise, Verdict>(exercises.map((e) => [e, { problems: pairingProblems(e), rejected: [] }]));
  const workDir = mkdtempSync(join(tmpdir(), 'exercise-solutions-'));
  try {
    const rounds = planRounds(root, exercises, verdicts, workDir);
    const results = await Promise.all(
      rounds.map((round, i) => runChecks(root, round.members.map((m) => m.exercise.check!), round.buildRoot, join(workDir, `round-${i}.json`))),
    );
    rounds.forEach((round, i) => {
      for (const { exercise, patch } of round.members) judge(verdicts.get(exercise)!, exercise, patch, results[i]!.get(exercise.check!));
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  let failed = 0;
  for (const e of exercises) {
    const label = `${e.step} ex ${e.id}`;
    const { problems, rejected } = verdicts.get(e)!;
    if (problems.length > 0) {
      failed++;
      for (const problem of problems) print(`${label}: FAILED: ${problem}`);
      continue;
    }
    const count = rejected.length === 1 ? 'its wrong solution fails' : `its ${rejected.length} wrong solutions fail`;
    print(`${label}: the reference passes, the step code fails, ${count}`);
    for (const { name, by } of rejected) print(`    ${name}: rejected by "${by}"`);
  }
  print(`exercises: ${exercises.length - failed} passed, ${failed} failed`);
  return failed;
}

if (isMain(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  try {
    process.exitCode = (await proveExercises(root)) === 0 ? 0 : 1;
  } catch (err) {
    console.error(`exercises: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
