// bench.ts from the outside: its flags, its one-line errors, and whole short runs against a
// step's server and real Redis, each on a free port.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../test/helpers/ports.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { ROOT, persistenceOffFlags, spawnStep, type ChildServer } from '../test/helpers/servers.ts';
import { stepsWithServer } from '../tools/check-docs.ts';
import { xmlError } from '../test/helpers/xml.ts';
import { FLAGS, USAGE, parseBenchArgs, phasesOf, runBench, type BenchOptions } from './bench.ts';
import { flagDefaults } from '../lib/cli.ts';

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, '10-capstone/bench.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('flags', () => {
  it('takes the workshop style of flags, with defaults for the card\'s sequential mode', () => {
    const options = parseBenchArgs(['--port', '6390', '--clients', '50', '--pipeline', '16', '--workload', 'GET', '--duration', '2.5']);
    expect(options).toMatchObject({ port: 6390, 'redis-port': 6379, clients: 50, pipeline: 16, workload: 'get', duration: 2.5, warmup: 1, keys: 10_000, 'value-size': 3 });
    const defaults = parseBenchArgs([]) as BenchOptions;
    expect(phasesOf(defaults).map((p) => p.label)).toEqual(['closed loop: 1 client, 1 request at a time (sequential)']);
    expect(phasesOf({ ...defaults, rate: 20_000, clients: 4 }).map((p) => p.shape)).toEqual([
      { kind: 'closed', clients: 4, pipeline: 1 },
      { kind: 'open', clients: 4, rate: 20_000 },
    ]);
  });

  it('refuses bad flags with a one-line reason', () => {
    const bad: Array<[string[], string]> = [
      [['--clients', '0'], 'bad value for --clients: 0 is out of range (1 to 5000)'],
      [['--workload', 'hset'], "bad value for --workload: 'hset' is not one of: ping, set, get, mix"],
      [['--duration', 'soon'], "bad value for --duration: 'soon' is not a number of seconds from 0 to 3600"],
      [['--requests', '10', '--duration', '2'], 'give --requests or --duration, not both'],
      [['--speed', '11'], "unknown flag '--speed'"],
      [['--rate'], "'--rate' needs a value"],
      [['6380'], "unexpected argument '6380'"],
    ];
    for (const [argv, reason] of bad) expect(() => parseBenchArgs(argv), argv.join(' ')).toThrow(reason);
  });

  it('exits 2 with one line on stderr for a bad flag, and prints the flags for --help', () => {
    const bad = runCli('--pipeline', 'deep');
    expect([bad.status, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toBe("Error: bad value for --pipeline: 'deep' is not an integer (--help lists the flags)\n");
    const help = runCli('--help');
    expect([help.status, help.stderr, help.stdout]).toEqual([0, '', USAGE + '\n']);
    for (const flag of Object.keys(FLAGS)) expect(USAGE, flag).toContain(`--${flag} `);
  });

  it('exits 1 with one line when nothing answers on --port', async () => {
    const port = await freePort();
    const run = runCli('--port', String(port), '--redis-port', '0', '--requests', '10');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^Error: nothing answers on 127\\.0\\.0\\.1:${port} \\(cannot connect to .*\\): start your server first, or run make 10-capstone, which starts it\\n$`));
  });
});

describe('a short run', () => {
  const step = stepsWithServer(ROOT).at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), 'capstone-bench-'));
  let ours: ChildServer;
  const options = (more: Partial<BenchOptions>): BenchOptions => ({ ...flagDefaults(FLAGS), warmup: 0, results: join(dir, 'results'), ...more });

  beforeAll(async () => {
    ours = await spawnStep(step, persistenceOffFlags(step, join(dir, 'data')));
  });
  afterAll(async () => {
    await ours?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('benchmarks ours alone when no Redis answers, and says how to get one', async () => {
    const lines: string[] = [];
    const nobody = await freePort();
    const { run, files } = await runBench(options({ port: ours.port, 'redis-port': nobody, requests: 300, name: step, report: false }), { log: (l) => lines.push(l), command: 'test' });
    expect(run.servers.map((s) => s.label)).toEqual([`ours (${step})`]);
    expect(files).toBeUndefined();
    expect(lines[0]).toBe(`Note: no Redis answers on 127.0.0.1:${nobody}, so this is ours alone. To compare, install Redis (apt-get install redis-server, brew install redis) and run make 10-capstone, which starts one`);
    expect(run.measurements.map((m) => [m.outcome.requests, m.outcome.errors, m.outcome.latency.count])).toEqual([[300, 0, 300]]);
    expect(lines.join('\n')).not.toContain('ours / redis');
  });

  describeWithRedis(['redis-server'], 'beside real Redis', () => {
    let redis: RealRedis;
    beforeAll(async () => {
      redis = await startRealRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('runs each phase against both, warmed up, and writes the report and the chart', async () => {
      const lines: string[] = [];
      const progress: string[] = [];
      const { run, files } = await runBench(
        options({ port: ours.port, 'redis-port': redis.port, name: step, requests: 400, rate: 2000, clients: 2, warmup: 0.1, rounds: 2, workload: 'mix' }),
        { log: (l) => lines.push(l), progress: (l) => progress.push(l), command: 'npx tsx 10-capstone/bench.ts --rate 2000' },
      );
      expect(run.servers.map((s) => s.label)).toEqual([`ours (${step})`, expect.stringMatching(/^redis \d+\.\d+\.\d+$/)]);
      expect(run.servers.map((s) => s.persistence)).toEqual(["appendonly no, save ''", "appendonly no, save ''"]);
      // Two phases, two servers, two rounds of 400 requests each.
      expect(run.measurements.map((m) => [m.server.role, m.phase.shape.kind, m.outcome.requests, m.outcome.errors, m.outcome.latency.count])).toEqual([
        ['ours', 'closed', 800, 0, 800], ['redis', 'closed', 800, 0, 800],
        ['ours', 'open', 800, 0, 800], ['redis', 'open', 800, 0, 800],
      ]);
      const table = lines.join('\n');
      expect(table).toMatch(/\nours \/ redis +\d+\.\d\d× +\d+\.\d\d×/);
      expect(progress).toContain(`ours (${step}), closed loop, round 1/2: warming up`);
      expect(progress.at(-1)).toBe('');
      expect(xmlError(readFileSync(files!.chart, 'utf8'))).toBeNull();
      expect(readFileSync(files!.markdown, 'utf8')).toContain('## closed loop: 2 clients, 1 request in flight each\n');
      expect(lines.at(-1)).toBe(`\nReport: ${files!.markdown}\nChart:  ${files!.chart}`);
    });
  });
});
