// Replaying docs: each doc's transcripts are read and grouped into sessions (a transcript
// and the `continued` ones after it), the sessions run a few at a time, and the results
// are counted for the summary: replayed, also against Redis, not replayed (with reasons),
// skipped (a program missing), failed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stepsWithServer } from '../check-docs.ts';
import { REQUIRE_REDIS, onPath } from '../../test/helpers/redis-programs.ts';
import { parseTranscripts, type Transcript } from './parse.ts';
import { formatFailure, type Failure } from './report.ts';
import { Session, type SessionPlan } from './session.ts';
import { classifyShellLine } from './shell-words.ts';

export interface ReplayOptions {
  /** The workshop folder: each session's scratch folder links its entries. */
  root: string;
  /** The docs to replay, relative to `docRoot` (as reports name them). */
  docs: readonly string[];
  /** Where the docs are (default: root). */
  docRoot?: string;
  /** Sessions run side by side. */
  jobs?: number;
  /** How long output the doc shows may take to arrive. */
  waitMs?: number;
  /** Missing programs (nc, redis-cli, redis-server) fail instead of skipping. */
  requirePrograms?: boolean;
  /** Called with a line for each doc once all its sessions ended. */
  progress?: (line: string) => void;
}

export interface Noted {
  doc: string;
  line: number;
  reason: string;
}

export interface ReplayResult {
  replayed: number;
  sessions: number;
  alsoRedis: number;
  notReplayed: Noted[];
  skipped: Noted[];
  /** Transcripts not run because an earlier one of their session failed. */
  notRun: number;
  failures: Failure[];
  /** Format problems: a ts fence without a name, an unknown tag, `make` in an also-redis session. */
  problems: Noted[];
  /** Every failure and problem, formatted, in doc order. */
  report: string[];
}

export const DEFAULT_WAIT_MS = 5000;

/** The programs a session needs that are not on PATH. */
function missingPrograms(plan: SessionPlan): string[] {
  const needed = new Set<string>();
  if (plan.target === 'redis') needed.add('redis-server');
  for (const t of plan.transcripts) {
    for (const step of t.steps) {
      if (step.input.kind !== 'shell') continue;
      const line = classifyShellLine(step.input.command, plan.steps);
      if (line.kind === 'nc') needed.add('nc');
      if (line.kind === 'server' && line.program === 'redis-server') needed.add('redis-server');
      if (line.kind !== 'bash') continue;
      for (const program of ['nc', 'redis-cli', 'redis-server', 'redis-benchmark', 'redis-check-aof', 'redis-check-rdb']) {
        if (new RegExp(`(^|[\\s|;&(])${program}(\\s|$)`).test(step.input.command)) needed.add(program);
      }
    }
  }
  return [...needed].filter((p) => !onPath(p));
}

/** The step a doc's transcripts run against: its folder, or step 01 for the top README. */
function stepOf(doc: string, steps: readonly string[]): string {
  const folder = doc.split('/')[0]!;
  return steps.includes(folder) ? folder : steps[0]!;
}

interface Plans {
  plans: SessionPlan[];
  notReplayed: Noted[];
  skipped: Noted[];
  problems: Noted[];
}

function planDoc(doc: string, docRoot: string, steps: readonly string[], requirePrograms: boolean): Plans {
  const full = join(docRoot, doc);
  const parsed = parseTranscripts(readFileSync(full, 'utf8'), { doc, steps, fileExists: (name) => existsSync(join(dirname(full), name)) });
  const out: Plans = { plans: [], notReplayed: [], skipped: [], problems: parsed.problems.map((p) => ({ doc, line: p.line, reason: p.problem })) };
  let current: SessionPlan | null = null;
  let blockedBy: Transcript | null = null;
  for (const t of parsed.transcripts) {
    if (!t.continued) {
      current = { doc, step: stepOf(doc, steps), steps, transcripts: [], target: 'step' };
      out.plans.push(current);
      blockedBy = null;
    }
    if (current === null) continue;
    if (t.noReplay !== undefined) {
      out.notReplayed.push({ doc, line: t.line, reason: t.noReplay });
      blockedBy ??= t;
    } else if (blockedBy !== null) {
      out.notReplayed.push({ doc, line: t.line, reason: `continues the transcript at line ${blockedBy.line}, which is not replayed` });
    } else {
      current.transcripts.push(t);
    }
  }
  const plans = out.plans.filter((p) => p.transcripts.length > 0);
  out.plans = [];
  for (const plan of plans) {
    if (plan.transcripts.some((t) => t.alsoRedis)) {
      const starts = plan.transcripts.flatMap((t) => t.steps).find((s) => s.input.kind === 'shell' && isStepServer(s.input.command, steps));
      if (starts !== undefined) out.problems.push({ doc, line: starts.line, reason: 'an also-redis session cannot start the step\'s server (make, npx tsx ...): real Redis takes its place' });
      else out.plans.push({ ...plan, target: 'redis' });
    }
    out.plans.push(plan);
  }
  out.plans = out.plans.filter((plan) => {
    const missing = missingPrograms(plan);
    if (missing.length === 0) return true;
    const reason = `needs ${missing.join(', ')}, not found on PATH${plan.target === 'redis' ? ' (also-redis)' : ''}`;
    for (const t of plan.transcripts) (requirePrograms ? out.problems : out.skipped).push({ doc, line: t.line, reason: requirePrograms ? `REQUIRE_REDIS=1 but it ${reason}` : reason });
    return false;
  });
  return out;
}

function isStepServer(command: string, steps: readonly string[]): boolean {
  const line = classifyShellLine(command, steps);
  return line.kind === 'server' && line.program !== 'redis-server';
}

/** Runs `jobs` at most `width` at a time. */
async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export async function replayDocs(options: ReplayOptions): Promise<ReplayResult> {
  const docRoot = options.docRoot ?? options.root;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const steps = stepsWithServer(options.root);
  const result: ReplayResult = { replayed: 0, sessions: 0, alsoRedis: 0, notReplayed: [], skipped: [], notRun: 0, failures: [], problems: [], report: [] };
  const plans: SessionPlan[] = [];
  for (const doc of options.docs) {
    const planned = planDoc(doc, docRoot, steps, options.requirePrograms ?? REQUIRE_REDIS);
    plans.push(...planned.plans);
    result.notReplayed.push(...planned.notReplayed);
    result.skipped.push(...planned.skipped);
    result.problems.push(...planned.problems);
  }
  const remaining = new Map(options.docs.map((d) => [d, plans.filter((p) => p.doc === d).length]));
  const started = Date.now();
  await pool(plans, options.jobs ?? 3, async (plan) => {
    const outcome = await new Session(plan, { root: options.root, waitMs }).run();
    if (plan.target === 'step') result.sessions++;
    for (const status of outcome.statuses.values()) {
      if (status === 'not-run') result.notRun++;
      else if (plan.target === 'redis') result.alsoRedis++;
      else result.replayed++;
    }
    if (outcome.failure !== undefined) result.failures.push(outcome.failure);
    const left = remaining.get(plan.doc)! - 1;
    remaining.set(plan.doc, left);
    if (left === 0) options.progress?.(`${plan.doc}: replayed (${((Date.now() - started) / 1000).toFixed(1)} s into the replay)`);
  });
  const order = (a: { doc: string; line: number }, b: { doc: string; line: number }) => options.docs.indexOf(a.doc) - options.docs.indexOf(b.doc) || a.line - b.line;
  result.failures.sort(order);
  result.problems.sort(order);
  result.report = [...result.problems.map((p) => `${p.doc}:${p.line}: ${p.reason}`), ...result.failures.map((f) => formatFailure(f, waitMs))];
  return result;
}

/** The summary printed at the end. */
export function summary(r: ReplayResult): string[] {
  const lines = [`transcripts: ${r.replayed} replayed in ${r.sessions} sessions (${r.alsoRedis} also against Redis), ${r.notReplayed.length} not replayed${r.notReplayed.length > 0 ? ':' : ''}`];
  for (const n of r.notReplayed) lines.push(`  ${n.doc}:${n.line}: ${n.reason}`);
  if (r.skipped.length > 0) lines.push(`skipped: ${r.skipped.length}:`, ...r.skipped.map((n) => `  ${n.doc}:${n.line}: ${n.reason}`));
  const failed = r.failures.length + r.problems.length;
  if (failed > 0) lines.push(`FAILED: ${r.failures.length} transcript(s) and ${r.problems.length} format problem(s)${r.notRun > 0 ? `; ${r.notRun} transcript(s) not run after a failure in their session` : ''}`);
  return lines;
}
