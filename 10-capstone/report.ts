// What a benchmark run shows: a table per phase (our server, real Redis, and the ratio of
// the two), the warnings that say when a figure cannot be trusted, and the report written
// to results/: Markdown with the same tables, and the SVG chart beside it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { latencyChart, type Series } from './chart.ts';
import { formatCount, formatLatency, formatPercent, formatRatio } from './format.ts';
import type { Target } from './load-connection.ts';
import type { PhaseOutcome, Shape } from './load.ts';

export interface ServerUnderTest {
  /** "ours (07-pubsub)", "redis 7.0.15". */
  label: string;
  role: 'ours' | 'redis';
  target: Target;
  /** How it persists, as CONFIG GET tells: "appendonly no, save ''". */
  persistence?: string;
}

export interface PhaseSpec {
  /** "closed loop: 50 clients, 16 requests in flight each". */
  label: string;
  shape: Shape;
}

export interface Measurement {
  server: ServerUnderTest;
  phase: PhaseSpec;
  outcome: PhaseOutcome;
}

export interface BenchRun {
  startedAt: Date;
  /** The workload and the length of each phase, in words. */
  load: string;
  /** How the run was started, to run it again. */
  command: string;
  servers: ServerUnderTest[];
  phases: PhaseSpec[];
  measurements: Measurement[];
  /** Said before the tables (no Redis to compare with, ...). */
  notes: string[];
}

/** Above this share of one core, the generator measures itself as much as the server. */
export const BUSY_CLIENT = 0.8;

const PERCENTILES = [50, 90, 99, 99.9] as const;
const HEADER = ['', 'ops/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'client CPU'];

export function phaseLabel(shape: Shape): string {
  const clients = `${shape.clients} ${shape.clients === 1 ? 'client' : 'clients'}`;
  if (shape.kind === 'open') return `open loop: ${formatCount(shape.rate)} requests/s over ${clients}, latency from each request's intended send time`;
  if (shape.clients === 1 && shape.pipeline === 1) return 'closed loop: 1 client, 1 request at a time (sequential)';
  return `closed loop: ${clients}, ${shape.pipeline} ${shape.pipeline === 1 ? 'request' : 'requests'} in flight each`;
}

/** One phase's rows: a header, a row per server, and ours / Redis when both ran. */
export function phaseRows(run: BenchRun, phase: PhaseSpec): string[][] {
  const rows = [HEADER];
  const of = (role: 'ours' | 'redis') => run.measurements.find((m) => m.phase === phase && m.server.role === role)?.outcome;
  for (const m of run.measurements.filter((m) => m.phase === phase)) {
    const o = m.outcome;
    rows.push([m.server.label, formatCount(opsPerSecond(o)), ...PERCENTILES.map((p) => formatLatency(o.latency.percentile(p))), formatLatency(o.latency.max), formatPercent(o.clientCpu)]);
  }
  const [ours, redis] = [of('ours'), of('redis')];
  if (ours && redis) {
    rows.push([
      'ours / redis', formatRatio(opsPerSecond(ours), opsPerSecond(redis)),
      ...PERCENTILES.map((p) => formatRatio(ours.latency.percentile(p), redis.latency.percentile(p))),
      formatRatio(ours.latency.max, redis.latency.max), '',
    ]);
  }
  return rows;
}

export const opsPerSecond = (o: PhaseOutcome) => (o.seconds > 0 ? o.requests / o.seconds : 0);

/** What makes a figure untrustworthy, one sentence each. */
export function warnings(run: BenchRun): string[] {
  const found: string[] = [];
  for (const { server, phase, outcome } of run.measurements) {
    const where = `${server.label}, ${phase.shape.kind} loop`;
    if (outcome.clientCpu > BUSY_CLIENT) {
      found.push(`${where}: the load generator was busy ${formatPercent(outcome.clientCpu)} of the time, so these figures measure the client as much as the server (fewer connections, or a generator on another machine, would tell)`);
    }
    if (outcome.errors > 0) found.push(`${where}: ${formatCount(outcome.errors)} error replies, the first: -${outcome.firstError}`);
    if (outcome.lateness !== undefined && outcome.lateness.percentile(99) > 10e6) {
      found.push(`${where}: the generator sent 1% of its requests more than ${formatLatency(outcome.lateness.percentile(99))} late (a busy generator or machine); the latencies include it`);
    }
    if (phase.shape.kind === 'open' && opsPerSecond(outcome) < phase.shape.rate * 0.9) {
      found.push(`${where}: served ${formatCount(opsPerSecond(outcome))} requests/s of the ${formatCount(phase.shape.rate)} asked for: the rate is past what it sustains, and the latencies grow with the queue`);
    }
  }
  return found;
}

/**
 * How late the open loop sent its requests, per server: part of every open-loop latency,
 * and the floor under them (Node's timers fire about once a millisecond).
 */
export function latenessNotes(run: BenchRun): string[] {
  return run.measurements.flatMap(({ server, outcome }) => {
    const l = outcome.lateness;
    if (l === undefined || l.count === 0) return [];
    return [`${server.label}: requests left after their intended time by ${formatLatency(l.percentile(50))} (p50), ${formatLatency(l.percentile(99))} (p99), ${formatLatency(l.max)} at most`];
  });
}

/** The run as the terminal shows it (after its notes): the load, a table per phase, warnings. */
export function textReport(run: BenchRun): string {
  const lines = [`Load: ${run.load}`, ''];
  for (const phase of run.phases) {
    lines.push(phase.label, ...alignColumns(phaseRows(run, phase)));
    if (phase.shape.kind === 'open') lines.push(...latenessNotes(run).map((n) => `  ${n}`));
    lines.push('');
  }
  if (run.servers.length > 1) lines.push('ops/s: higher is better; latencies: lower is better (ours / redis below 1.00× is faster).');
  for (const w of warnings(run)) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('   ').trimEnd());
}

/** The same as Markdown, with the machine, the chart, and how to run it again. */
export function markdownReport(run: BenchRun, chartFile: string): string {
  const lines = [
    `# Benchmark: ${run.servers.map((s) => s.label).join(' and ')}`,
    '',
    `Run ${run.startedAt.toISOString()} on ${machine()}.`,
    '',
    `- Load: ${run.load}`,
    ...run.servers.map((s) => `- ${s.label}: ${s.target.host}:${s.target.port}${s.persistence ? `, ${s.persistence}` : ''}`),
    `- Command: \`${run.command}\``,
    ...run.notes.map((n) => `- Note: ${n}`),
    '',
  ];
  for (const phase of run.phases) {
    const [header, ...rows] = phaseRows(run, phase);
    lines.push(`## ${phase.label}`, '', `| ${header!.join(' | ')} |`, `|${header!.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
    if (phase.shape.kind === 'open') lines.push('The generator\'s own lateness, included in the latencies above:', '', ...latenessNotes(run).map((n) => `- ${n}`), '');
  }
  lines.push('## Latency by percentile', '', `![Latency by percentile](${chartFile})`, '');
  const found = warnings(run);
  if (found.length > 0) lines.push('## Warnings', '', ...found.map((w) => `- ${w}`), '');
  return lines.join('\n');
}

const COLORS = { ours: '#1f6feb', redis: '#d1242f' };

export function chartSeries(run: BenchRun): Series[] {
  const open = run.phases.some((p) => p.shape.kind === 'open');
  return run.measurements.map((m) => ({
    label: `${m.server.label}, ${m.phase.shape.kind === 'open' ? `open loop (${formatCount(m.phase.shape.rate)}/s)` : 'closed loop'}`,
    color: COLORS[m.server.role],
    dashed: open && m.phase.shape.kind === 'closed',
    latency: m.outcome.latency,
  }));
}

/** Writes NAME.md and NAME.svg into `dir` (created if missing), NAME from the run's start time. */
export function writeReport(run: BenchRun, dir: string): { markdown: string; chart: string } {
  mkdirSync(dir, { recursive: true });
  let name = `bench-${timestamp(run.startedAt)}`;
  for (let n = 2; existsSync(join(dir, `${name}.md`)); n++) name = `bench-${timestamp(run.startedAt)}-${n}`;
  const chart = join(dir, `${name}.svg`);
  const markdown = join(dir, `${name}.md`);
  writeFileSync(chart, latencyChart(chartSeries(run), `Latency by percentile: ${run.servers.map((s) => s.label).join(' and ')}`, run.load));
  writeFileSync(markdown, markdownReport(run, `${name}.svg`));
  return { markdown, chart };
}

/** 2026-05-01T14:03:07.123Z -> 20260501-140307 (UTC; sorts in time order). */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}, ${process.platform}`;
}
