// Proves the exercises (`make exercises`, part of `make test`). For every exercise:
//   - its reference solution must pass its check;
//   - the step code as shipped must fail it (an exercise that is already solved proves
//     nothing);
//   - each of its plausible wrong solutions must fail it too (a check that a wrong answer
//     passes teaches the wrong thing), and it needs at least one;
//   - every solution must type-check with the step's own tests, as `make typecheck` would
//     once it is applied: a reference must leave the whole `make test` green, and a wrong
//     solution is a mistake that compiles, which only the check rejects.
//
// The files: NN-step/exercises/ID.check.ts, solutions/NN-step/ID.patch (the reference),
// solutions/NN-step/ID.wrong-WHAT.patch (a wrong solution, WHAT naming the mistake) and
// solutions/NN-step/ID.hints.md (its hints, as many as the step's EXERCISES.md says).
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
// server never sends. Beside them, one tsc run at the lowest priority type-checks every
// built solution (typeCheckSolutions).
//
// Usage: npx tsx tools/prove-exercises.ts
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';
import { parseHints, statedHints } from './hint.ts';

export interface Exercise {
  /** The step folder, e.g. 03-get-set. */
  step: string;
  /** The exercise's number and slug, e.g. 1-setrange. */
  id: string;
  /** Repo-relative paths; undefined when missing (a problem). */
  check?: string;
  patch?: string;
  /** Its hints, solutions/NN-step/ID.hints.md, given one at a time by `make hint`. */
  hints?: string;
  /** Repo-relative paths of its wrong solutions, sorted; none is a problem. */
  wrong: string[];
}

const WRONG_PATCH = /^(.+)\.(wrong-[^.]+)\.patch$/;

/**
 * Pairs every NN-step/exercises/ID.check.ts with solutions/NN-step/ID.patch, ID.wrong-*.patch
 * and ID.hints.md.
 */
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
    for (const file of files(join(root, 'solutions', step), '.hints.md')) {
      entry(step, file.slice(0, -'.hints.md'.length)).hints = `solutions/${step}/${file}`;
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
  // The step's tests come along for the type check (typeCheckSolutions): a reference must leave
  // them compiling. vitest never runs them here: it is given the checks by name.
  cpSync(join(root, build.step), join(home, build.step), {
    recursive: true,
    filter: (src) => {
      const name = basename(src);
      return !(name === 'exercises' || name === 'data' || name === 'node_modules');
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

/** A built solution to type-check: its folder under a build root, and its step. */
export interface BuiltSolution {
  home: string;
  step: string;
}

/** What the type check found: each solution's errors (in the order given), and errors elsewhere. */
export interface TypeErrors {
  bySolution: string[][];
  elsewhere: string[];
}

/**
 * Type-checks built solutions in one tsc run, as `make typecheck` would once each is
 * applied: the patched step folder with its tests, with the repo's compiler options. Each
 * error's path is as in the repo ("03-get-set/server.ts(12,5): error TS2322: ...").
 *
 * The patched steps are copied to a tree of their own, `typesRoot/<n>/<step>`, without the
 * links to lib/: there `rootDirs` resolves `../lib/...` and `../test/...` to the repo's
 * files, so lib/, the test helpers and the steps they name are checked once in all, not
 * once per solution (which would make the proof minutes slower).
 */
export async function typeCheckSolutions(root: string, typesRoot: string, solutions: readonly BuiltSolution[]): Promise<TypeErrors> {
  const result: TypeErrors = { bySolution: solutions.map(() => []), elsewhere: [] };
  if (solutions.length === 0) return result;
  const copies = solutions.map(({ home, step }, n) => {
    cpSync(join(home, step), join(typesRoot, String(n), step), { recursive: true });
    return `${n}/`;
  });
  const config = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { noEmit: true, incremental: false, rootDirs: [...copies.map((copy) => join(typesRoot, copy)), root] },
    include: copies.map((copy) => `${copy}*/**/*.ts`),
    exclude: ['**/node_modules', '**/data'],
  };
  writeFileSync(join(typesRoot, 'tsconfig.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(typesRoot, 'package.json'), '{ "type": "module" }\n'); // as the repo's: ES modules
  symlinkSync(join(root, 'node_modules'), join(typesRoot, 'node_modules'), 'dir'); // for "types": ["node"]

  // The checks beside it have deadlines (a server started as a child process must be ready
  // in time) and tsc has none: at the lowest priority, from its first thread on, it gets the
  // CPU they leave, and they spend most of their time waiting.
  const tsc = spawn('nice', ['-n', '19', process.execPath, join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], {
    cwd: typesRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  tsc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  tsc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | string>((done) => {
    tsc.once('error', (err) => done(err.message));
    tsc.once('close', (exit, signal) => done(exit ?? signal ?? -1));
  });

  // One diagnostic per unindented line (tsc indents the rest of a long message). Paths,
  // also those inside messages (import("/tmp/.../resp").RespValue), are shortened to the repo's.
  const repoPaths = (text: string) => text.replaceAll(`${typesRoot}/`, '').replaceAll(`${root.replace(/\/$/, '')}/`, '').replace(/(^|[("'])\d+\/(?=\d\d-)/g, '$1');
  for (const diagnostic of output.trimEnd().split(/\n(?=\S)/)) {
    if (diagnostic === '') continue;
    const n = copies.findIndex((copy) => diagnostic.startsWith(copy));
    (n === -1 ? result.elsewhere : result.bySolution[n]!).push(repoPaths(diagnostic));
  }
  if (code !== 0 && result.elsewhere.length === 0 && result.bySolution.every((e) => e.length === 0)) result.elsewhere.push(`tsc failed (${code}) and said nothing`);
  return result;
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
  const files = [e.patch, ...e.wrong, e.hints].filter((p) => p !== undefined);
  if (e.check === undefined) return [`${files.join(', ')} ${files.length === 1 ? 'has' : 'have'} no check (expected ${e.step}/exercises/${e.id}.check.ts)`];
  const problems: string[] = [];
  if (e.patch === undefined) problems.push(`check ${e.check} has no reference solution (expected solutions/${e.step}/${e.id}.patch)`);
  if (e.wrong.length === 0) {
    problems.push(`needs at least one wrong solution, a plausible mistake its check rejects (expected solutions/${e.step}/${e.id}.wrong-<what>.patch)`);
  }
  return problems;
}

/**
 * Problems with an exercise's hints: it needs a hints file with at least one hint, and its
 * section of the step's EXERCISES.md must name `make hint STEP=NN EX=N` and the number of
 * hints the file holds, so what the learner is told matches what `make hint` gives.
 */
export function hintProblems(root: string, e: Exercise): string[] {
  if (e.check === undefined) return [];
  const expected = `solutions/${e.step}/${e.id}.hints.md`;
  if (e.hints === undefined) return [`has no hints (expected ${expected}, one "## Hint N" section each, given one at a time by make hint)`];
  let count: number;
  try {
    count = parseHints(readFileSync(join(root, e.hints), 'utf8')).length;
  } catch (err) {
    return [`${e.hints}: ${(err as Error).message}`];
  }
  if (count === 0) return [`${e.hints} holds no hint (a hint is a "## Hint 1" section)`];
  const number = parseInt(e.id, 10);
  const command = `make hint STEP=${e.step.slice(0, 2)} EX=${number}`;
  const exercisesMd = join(root, e.step, 'EXERCISES.md');
  const stated = existsSync(exercisesMd) ? statedHints(readFileSync(exercisesMd, 'utf8')).get(number) : undefined;
  const where = `${e.step}/EXERCISES.md, exercise ${number}`;
  if (stated === undefined) return [`${where} does not say how to get its hints (\`${command}\`, and how many: ${count})`];
  if (`make hint STEP=${stated.step} EX=${stated.ex}` !== command) return [`${where} names \`make hint STEP=${stated.step} EX=${stated.ex}\`; its hints come from \`${command}\``];
  if (stated.count !== count) {
    const says = stated.count === undefined ? 'does not say how many hints it has' : `says ${stated.count} hints`;
    return [`${where} ${says}; ${e.hints} holds ${count}`];
  }
  return [];
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

/** How many of a solution's type errors its report shows. */
const MAX_TYPE_ERRORS = 5;

/** The problem of a solution that does not type-check: what `make typecheck` would say once it is applied. */
function typeProblem(e: Exercise, patch: string, errors: string[]): string {
  const shown = errors.slice(0, MAX_TYPE_ERRORS);
  if (errors.length > shown.length) shown.push(`… and ${errors.length - shown.length} more`);
  const what = patch === e.patch ? `the reference solution does not type-check: applied, it breaks make typecheck` : `${wrongName(patch)} (${patch}) does not type-check: a wrong solution is a mistake that compiles, which only its check rejects`;
  return `${what}:\n${indent(shown.join('\n'))}`;
}

/** Proves every exercise; prints what it found and a total. Resolves with the failure count. */
export async function proveExercises(root: string, print: (line: string) => void = console.log): Promise<number> {
  const exercises = findExercises(root);
  if (exercises.length === 0) {
    print('exercises: none found (no NN-step/exercises/*.check.ts, no solutions/NN-step/*.patch)');
    return 0;
  }
  const verdicts = new Map<Exercise, Verdict>(exercises.map((e) => [e, { problems: [...pairingProblems(e), ...hintProblems(root, e)], rejected: [] }]));
  const workDir = mkdtempSync(join(tmpdir(), 'exercise-solutions-'));
  try {
    const rounds = planRounds(root, exercises, verdicts, workDir);
    // One tsc run for every built solution, beside the checks. It starts first: it copies the
    // solutions (a while, blocking this process) before any vitest run needs this process to
    // read what it prints.
    const built = rounds.flatMap((round, r) =>
      round.buildRoot === undefined ? [] : round.members.map(({ exercise }) => ({ round: r, exercise, home: join(round.buildRoot!, exercise.step, exercise.id), step: exercise.step })),
    );
    const [typeErrors, results] = await Promise.all([
      typeCheckSolutions(root, join(workDir, 'types'), built),
      Promise.all(rounds.map((round, i) => runChecks(root, round.members.map((m) => m.exercise.check!), round.buildRoot, join(workDir, `round-${i}.json`)))),
    ]);
    const typeErrorsOf = (round: number, exercise: Exercise) => {
      const n = built.findIndex((b) => b.round === round && b.exercise === exercise);
      return n === -1 ? [] : [...typeErrors.bySolution[n]!, ...typeErrors.elsewhere];
    };
    rounds.forEach((round, i) => {
      for (const { exercise, patch } of round.members) {
        const verdict = verdicts.get(exercise)!;
        judge(verdict, exercise, patch, results[i]!.get(exercise.check!));
        const errors = typeErrorsOf(i, exercise);
        if (patch !== undefined && errors.length > 0) verdict.problems.push(typeProblem(exercise, patch, errors));
      }
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
