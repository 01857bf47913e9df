// The table, the Markdown report and the SVG chart, from measurements made up here (the
// figures are chosen, so every cell can be checked).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xmlError } from '../test/helpers/xml.ts';
import { latencyChart, percentileLabel } from './chart.ts';
import { formatLatency } from './format.ts';
import { Histogram } from './histogram.ts';
import type { PhaseOutcome, Shape } from './load.ts';
import { phaseLabel, phaseRows, textReport, timestamp, warnings, writeReport, type BenchRun, type ServerUnderTest } from './report.ts';

const MS = 1e6;

/** A histogram of `n` values: `body` ns for all but the slowest `tailShare`, which take `tail` ns. */
function histogramOf(n: number, body: number, tail: number, tailShare = 0.01): Histogram {
  const h = new Histogram();
  for (let i = 0; i < n; i++) h.record(i < n * (1 - tailShare) ? body : tail);
  return h;
}

function outcome(requests: number, seconds: number, latency: Histogram, extra: Partial<PhaseOutcome> = {}): PhaseOutcome {
  return { requests, errors: 0, seconds, latency, clientCpu: 0.4, ...extra };
}

const ours: ServerUnderTest = { label: 'ours (07-pubsub)', role: 'ours', target: { host: '127.0.0.1', port: 6380 }, persistence: "appendonly no, save ''" };
const redis: ServerUnderTest = { label: 'redis 7.0.15', role: 'redis', target: { host: '127.0.0.1', port: 6379 } };

function sampleRun(): BenchRun {
  const closedShape: Shape = { kind: 'closed', clients: 1, pipeline: 1 };
  const openShape: Shape = { kind: 'open', clients: 1, rate: 5000 };
  const closed = { label: phaseLabel(closedShape), shape: closedShape };
  const open = { label: phaseLabel(openShape), shape: openShape };
  return {
    startedAt: new Date('2026-05-01T14:03:07.123Z'),
    load: 'PING; 10,000 requests per phase',
    command: 'npx tsx 10-capstone/bench.ts --rate 5000',
    servers: [ours, redis],
    phases: [closed, open],
    measurements: [
      { server: ours, phase: closed, outcome: outcome(10_000, 0.5, histogramOf(10_000, 50_000, 2 * MS), { clientCpu: 0.93 }) },
      { server: redis, phase: closed, outcome: outcome(10_000, 0.4, histogramOf(10_000, 40_000, 1 * MS)) },
      { server: ours, phase: open, outcome: outcome(10_000, 2, histogramOf(10_000, 60_000, 200 * MS), { lateness: histogramOf(10_000, 500_000, 900_000) }) },
      { server: redis, phase: open, outcome: outcome(10_000, 2, histogramOf(10_000, 45_000, 3 * MS), { errors: 2, firstError: 'ERR boom', lateness: histogramOf(10_000, 400_000, 20 * MS, 0.05) }) },
    ],
    notes: [],
  };
}

describe('the table', () => {
  it('has a row per server and their ratio, for each phase', () => {
    const run = sampleRun();
    expect(phaseRows(run, run.phases[0]!)).toEqual([
      ['', 'ops/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'client CPU'],
      ['ours (07-pubsub)', '20,000', formatLatency(50_000), formatLatency(50_000), formatLatency(50_000), '2.00 ms', '2.00 ms', '93%'],
      ['redis 7.0.15', '25,000', formatLatency(40_000), formatLatency(40_000), formatLatency(40_000), '1.00 ms', '1.00 ms', '40%'],
      ['ours / redis', '0.80×', expect.stringMatching(/^1\.2\d×$/), expect.stringMatching(/^1\.2\d×$/), expect.stringMatching(/^1\.2\d×$/), '2.00×', '2.00×', ''],
    ]);
  });

  it('warns where a figure measures something else: a busy client, errors, a late schedule', () => {
    const found = warnings(sampleRun());
    expect(found).toEqual([
      expect.stringMatching(/^ours \(07-pubsub\), closed loop: the load generator was busy 93% of the time/),
      expect.stringMatching(/^redis 7\.0\.15, open loop: 2 error replies, the first: -ERR boom$/),
      expect.stringMatching(/^redis 7\.0\.15, open loop: the generator sent 1% of its requests more than 20\.0 ms late/),
    ]);
  });

  it('prints the load, each phase, how late the open loop sent, and the warnings', () => {
    const text = textReport(sampleRun());
    expect(text).toMatch(/^Load: PING; 10,000 requests per phase\n/);
    expect(text).toContain('closed loop: 1 client, 1 request at a time (sequential)\n');
    expect(text).toContain("open loop: 5,000 requests/s over 1 client, latency from each request's intended send time\n");
    expect(text).toMatch(/\n {2}ours \(07-pubsub\): requests left after their intended time by 50\d µs \(p50\)/);
    expect(text).toMatch(/\nours \/ redis +0\.80× +1\.2\d× /);
    expect(text.split('\n').filter((l) => l.startsWith('Warning: '))).toHaveLength(3);
  });

  it('names a run by its start, in UTC, so that names sort in time order', () => {
    expect(timestamp(new Date('2026-05-01T14:03:07.123Z'))).toBe('20260501-140307');
  });
});

describe('the report files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capstone-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes Markdown and an SVG chart under a timestamped name, and never over an earlier run', () => {
    const first = writeReport(sampleRun(), join(dir, 'results'));
    const second = writeReport(sampleRun(), join(dir, 'results'));
    expect(first).toEqual({ markdown: join(dir, 'results', 'bench-20260501-140307.md'), chart: join(dir, 'results', 'bench-20260501-140307.svg') });
    expect(second.markdown).toBe(join(dir, 'results', 'bench-20260501-140307-2.md'));
    expect(readdirSync(join(dir, 'results')).sort()).toEqual(['bench-20260501-140307-2.md', 'bench-20260501-140307-2.svg', 'bench-20260501-140307.md', 'bench-20260501-140307.svg']);

    const markdown = readFileSync(first.markdown, 'utf8');
    expect(markdown).toContain('# Benchmark: ours (07-pubsub) and redis 7.0.15\n');
    expect(markdown).toContain("- ours (07-pubsub): 127.0.0.1:6380, appendonly no, save ''\n");
    expect(markdown).toContain('- Command: `npx tsx 10-capstone/bench.ts --rate 5000`\n');
    expect(markdown).toContain('|  | ops/s | p50 | p90 | p99 | p99.9 | max | client CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|\n| ours (07-pubsub) | 20,000 |');
    expect(markdown).toContain('| ours / redis | 0.80× |');
    expect(markdown).toContain('![Latency by percentile](bench-20260501-140307.svg)');
    expect(markdown).toMatch(/## Warnings\n\n- ours \(07-pubsub\), closed loop: the load generator was busy 93%/);
  });

  it('draws the chart as well-formed SVG: both servers, both loops, the percentile axis', () => {
    const svg = readFileSync(join(dir, 'results', 'bench-20260501-140307.svg'), 'utf8');
    expect(xmlError(svg)).toBeNull();
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const paths = [...svg.matchAll(/<path d="M[^"]+" fill="none" stroke="(#\w+)" stroke-width="2"( stroke-dasharray="6 4")?\/>/g)];
    expect(paths.map((m) => [m[1], m[2] !== undefined])).toEqual([['#1f6feb', true], ['#d1242f', true], ['#1f6feb', false], ['#d1242f', false]]);
    for (const label of ['ours (07-pubsub), closed loop', 'redis 7.0.15, closed loop', 'ours (07-pubsub), open loop (5,000/s)', 'redis 7.0.15, open loop (5,000/s)']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    for (const tick of ['0%', '90%', '99%', '99.9%', '99.99%']) expect(svg).toContain(`>${tick}</text>`);
  });

  it('escapes what it is given, so a label cannot break the XML', () => {
    const svg = latencyChart([{ label: 'a <b> & "c"', color: '#000', dashed: false, latency: histogramOf(100, 1000, 2000) }], 'x & y', "it's <here>");
    expect(xmlError(svg)).toBeNull();
    expect(svg).toContain('>a &lt;b&gt; &amp; &quot;c&quot;</text>');
  });

  it('draws an empty chart for a run that measured nothing', () => {
    expect(xmlError(latencyChart([], 'nothing', ''))).toBeNull();
  });

  it('labels the percentile axis 0%, 90%, 99%, 99.9% ...', () => {
    expect([0, 1, 2, 3, 4, 5].map(percentileLabel)).toEqual(['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']);
  });
});
