// The drift check (`make drift`, part of `make test`). Copying code forward is how the
// workshop shows progression, so most step files have a copy in the step before. A fix
// made in one copy and not the others is invisible until a learner trips on it; the
// markers make it visible:
//
//   1. for each pair of neighbouring steps (01/02, 02/03, ...) and each code file present in
//      both (*.ts, not tests, not exercises/), every hunk of `diff -U0 older newer` must
//      carry the newer step's marker on its new side, in one of the forms the code uses:
//      `// 06: why`, `this.x(); // 06` (at a line's end), `/** 06: why` and ` * 06: why`.
//      A pure deletion passes if a new-side line next to it carries one. A change inside
//      the file's opening description (its leading comment block, which each step rewrites)
//      needs none. A file new in a step is all lesson and needs none, and so is a file the
//      step rewrites, if its description says so (`// 03: rewritten: why`) and it keeps at
//      most half of the older copy's lines: there, diff pairs up unrelated lines (a closing
//      brace, a blank line) and no marker could sit beside the hunks it makes;
//   2. no step has a runtime import cycle (see imports.ts: files that import each other in
//      a loop fail at load as soon as one uses another's constant at top level).
//
// The diffs come from `diff -U0` (GNU or BSD diff, present wherever the workshop runs),
// not from an LCS written here: it is the same program `make diff` shows the learner, so
// the check judges the hunks the learner reads, and -U0 makes each changed region its own
// hunk, with no context lines to tell apart from the change.
//
// Problems print as `path:line: problem`, one per line, then a summary; exit code 1 if any.
//
// Usage: npx tsx tools/check-drift.ts [repo-root]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';
import { formatProblem, stepFolders, type Problem } from './check-docs.ts';
import { codeFiles, findCycles, runtimeImportGraph } from './imports.ts';

/** One hunk of `diff -U0`: line ranges (1-based; a count of 0 means "after line start"). */
export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
}

/** The hunks between two files, as `diff -U0` finds them. */
export function diffHunks(oldPath: string, newPath: string): Hunk[] {
  const run = spawnSync('diff', ['-U0', oldPath, newPath], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`could not run diff: ${run.error.message}`);
  if (run.status !== 0 && run.status !== 1) throw new Error(`diff ${oldPath} ${newPath} failed: ${run.stderr.trim()}`);
  const hunks: Hunk[] = [];
  for (const m of run.stdout.matchAll(/^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm)) {
    hunks.push({ oldStart: Number(m[1]), oldCount: Number(m[2] ?? 1), newStart: Number(m[3]), newCount: Number(m[4] ?? 1) });
  }
  return hunks;
}

/** Does this line carry step `step`'s marker ("06")? Only the forms the steps use. */
export function carriesMarker(line: string, step: string): boolean {
  return (
    line.includes(`// ${step}:`) ||
    new RegExp(`// ${step}\\s*$`).test(line) ||
    line.includes(`/** ${step}:`) ||
    new RegExp(`^\\s*\\* ${step}:`).test(line)
  );
}

/**
 * How many lines the file's opening description takes: the comment block it starts with
 * (`//` lines, or one `/* ... *\/` block), up to the first line that is not comment.
 */
export function openingDescriptionLength(lines: readonly string[]): number {
  let n = lines[0]?.startsWith('#!') ? 1 : 0;
  if (lines[n]?.trimStart().startsWith('/*')) {
    while (n < lines.length && !lines[n]!.includes('*/')) n++;
    return Math.min(n + 1, lines.length);
  }
  while (n < lines.length && lines[n]!.trimStart().startsWith('//')) n++;
  return n;
}

const readLines = (path: string): string[] => readFileSync(path, 'utf8').split('\n');

/** Does the opening description say the step rewrote the file (`// 03: rewritten: ...`)? */
export function declaresRewrite(lines: readonly string[], step: string): boolean {
  return lines.slice(0, openingDescriptionLength(lines)).some((line) => line.startsWith(`// ${step}: rewritten`));
}

/** A line that says something: not blank, not only brackets and punctuation. */
const substantive = (line: string) => /[\w'"`]/.test(line);

/** How many of the new copy's substantive lines are unchanged from the old one, of how many. */
export function keptLines(newLines: readonly string[], hunks: readonly Hunk[]): { kept: number; of: number } {
  const changed = new Set<number>();
  for (const h of hunks) for (let n = h.newStart; n < h.newStart + h.newCount; n++) changed.add(n);
  let kept = 0;
  let of = 0;
  newLines.forEach((line, i) => {
    if (!substantive(line)) return;
    of++;
    if (!changed.has(i + 1)) kept++;
  });
  return { kept, of };
}

export type Unmarked = { line: number; problem: 'unmarked' } | { line: number; problem: 'not a rewrite'; kept: number; of: number };

/** What one file's diff holds without a marker of `step`: each such hunk's line, or a rewrite claim that does not hold. */
export function unmarkedChanges(oldPath: string, newPath: string, step: string): Unmarked[] {
  const oldDescription = openingDescriptionLength(readLines(oldPath));
  const newLines = readLines(newPath);
  const newDescription = openingDescriptionLength(newLines);
  const hunks = diffHunks(oldPath, newPath);
  if (declaresRewrite(newLines, step)) {
    const { kept, of } = keptLines(newLines, hunks);
    return kept * 2 <= of ? [] : [{ line: 1, problem: 'not a rewrite', kept, of }];
  }
  const unmarked: Unmarked[] = [];
  for (const hunk of hunks) {
    // The part of the hunk past each side's description is code: that part needs the marker.
    const oldCode = hunk.oldCount > 0 && hunk.oldStart + hunk.oldCount - 1 > oldDescription;
    const newCodeLines: number[] = [];
    for (let n = hunk.newStart; n < hunk.newStart + hunk.newCount; n++) if (n > newDescription) newCodeLines.push(n);
    if (!oldCode && newCodeLines.length === 0) continue;
    // A deletion (nothing new past the description) is judged by the lines around the gap.
    const last = hunk.newCount === 0 ? hunk.newStart : hunk.newStart + hunk.newCount - 1;
    const judged = newCodeLines.length > 0 ? newCodeLines : [last, last + 1].filter((n) => n > newDescription && n <= newLines.length);
    if (judged.some((n) => carriesMarker(newLines[n - 1]!, step))) continue;
    unmarked.push({ line: newCodeLines[0] ?? Math.min(last + 1, newLines.length), problem: 'unmarked' });
  }
  return unmarked;
}

export const DRIFT_HINT = 'a fix made in one copy only? make it in every step\'s copy, or mark it as the step\'s lesson';

export interface DriftReport {
  pairs: number;
  files: number;
  problems: Problem[];
}

/** Neighbouring steps: 01-tcp-echo and 02-resp-parser, and so on, by number. */
export function neighbourPairs(root: string): Array<[string, string]> {
  const steps = stepFolders(root);
  const byNumber = new Map(steps.map((s) => [parseInt(s, 10), s]));
  return steps.flatMap((newer) => {
    const older = byNumber.get(parseInt(newer, 10) - 1);
    return older === undefined ? [] : [[older, newer] as [string, string]];
  });
}

/** Rule 1: every change between neighbouring steps' copies of a file is marked. */
export function checkDrift(root: string): DriftReport {
  const report: DriftReport = { pairs: 0, files: 0, problems: [] };
  for (const [older, newer] of neighbourPairs(root)) {
    report.pairs++;
    const step = newer.slice(0, 2);
    for (const file of codeFiles(join(root, newer))) {
      if (!existsSync(join(root, older, file))) continue; // new in this step: all lesson
      report.files++;
      for (const found of unmarkedChanges(join(root, older, file), join(root, newer, file), step)) {
        report.problems.push({
          path: `${newer}/${file}`,
          line: found.line,
          problem: found.problem === 'unmarked'
            ? `this change from ${older.slice(0, 2)}'s copy carries no // ${step}: marker: ${DRIFT_HINT}`
            : `says "${step}: rewritten" but keeps ${found.kept} of its ${found.of} lines from ${older.slice(0, 2)}'s copy: mark its changes instead`,
        });
      }
    }
  }
  return report;
}

/** Rule 2: no step folder has files that import each other in a loop at run time. */
export function checkImportCycles(root: string): { steps: number; problems: Problem[] } {
  const steps = stepFolders(root);
  const problems = steps.flatMap((step) => {
    const graph = runtimeImportGraph(join(root, step));
    return findCycles(graph).map(({ loop, files }): Problem => ({
      path: `${step}/${loop[0]}`,
      line: graph.get(loop[0]!)!.find((edge) => edge.to === loop[1])?.line ?? 1,
      problem:
        `runtime import cycle: ${loop.join(' -> ')}` +
        (files.length > loop.length - 1 ? ` (${files.length} files in the loop: ${files.join(', ')})` : '') +
        `: a top-level use of an export from the loop can fail with "Cannot access 'X' before initialization";` +
        ' move what several files need into a module that imports none of them, or import types with `import type`',
    }));
  });
  return { steps: steps.length, problems };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

if (isMain(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '../..'));
  const drift = checkDrift(root);
  const cycles = checkImportCycles(root);
  for (const p of [...drift.problems, ...cycles.problems]) console.log(formatProblem(p));
  console.log(
    `drift: ${plural(drift.pairs, 'pair')} of steps, ${plural(drift.files, 'file')} compared, ` +
      (drift.problems.length === 0 ? 'no unmarked change' : plural(drift.problems.length, 'problem')),
  );
  console.log(
    `import cycles: ${plural(cycles.steps, 'step')} read, ` +
      (cycles.problems.length === 0 ? 'no runtime cycle' : plural(cycles.problems.length, 'runtime cycle')),
  );
  process.exitCode = drift.problems.length + cycles.problems.length > 0 ? 1 : 0;
}
