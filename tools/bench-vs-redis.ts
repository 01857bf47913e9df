// `make bench STEP=03`: a step's server against a real redis-server on the same machine,
// in the same run, with redis-benchmark. Rounds alternate between the two servers so
// that whatever else the machine is doing falls on both alike; each figure is the median
// of its rounds, and the result is reported as a ratio (ours / Redis), never as an
// absolute pass or fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.ts';
import { startProcess, stepFolder } from './bench-processes.ts';

interface Scenario {
  label: string;
  args: string[];
}

const SCENARIOS: Scenario[] = [
  { label: '-c 50', args: ['-t', 'set,get', '-n', '200000', '-c', '50'] },
  { label: '-c 50 -P 16', args: ['-t', 'set,get', '-n', '1000000', '-c', '50', '-P', '16'] },
];

const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** Runs redis-benchmark once; returns requests per second per test ("SET", "GET"). */
function benchmark(port: number, args: string[]): Map<string, number> {
  const run = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`redis-benchmark failed: ${run.stderr}`);
  const rps = new Map<string, number>();
  for (const line of run.stdout.split('\n').slice(1)) {
    const [test, value] = line.split(',').map((field) => field.replace(/"/g, ''));
    if (test && value) rps.set(test, Number(value));
  }
  return rps;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The persistence both servers run with, so that they do the same work: from step 05 the
 * AOF (appendfsync everysec, Redis's default when it is on), and never a snapshot in the
 * middle of a run. Steps before 05 take no persistence flags, and steps before 06 no --save.
 */
function persistenceFlags(stepNumber: number, dir: string, who: 'ours' | 'redis'): string[] {
  const aof = stepNumber >= 5 ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  if (who === 'redis') return ['--dir', dir, '--save', '', ...aof];
  if (stepNumber < 5) return [];
  return ['--dir', dir, ...aof, ...(stepNumber >= 6 ? ['--save', ''] : [])];
}

async function main(): Promise<void> {
  const step = stepFolder(process.env.STEP ?? '03');
  const stepNumber = parseInt(step, 10);
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const [ourPort, redisPort] = [await freePort(), await freePort()];
  const stops = [
    await startProcess(process.execPath, ['--import', 'tsx', `${step}/server.ts`, '--port', String(ourPort), '--bind', '127.0.0.1', '--loglevel', 'warning',
      ...persistenceFlags(stepNumber, join(dir, 'ours'), 'ours')], ourPort),
    await startProcess('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', ...persistenceFlags(stepNumber, dir, 'redis')], redisPort),
  ];
  try {
    console.log(`${step} against redis-server, ${ROUNDS} alternating rounds per scenario (medians)\n`);
    console.log('scenario        test   redis ops/s      ours ops/s   ratio');
    for (const scenario of SCENARIOS) {
      const samples = { ours: new Map<string, number[]>(), redis: new Map<string, number[]>() };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [who, port] of [['redis', redisPort], ['ours', ourPort]] as const) {
          for (const [test, rps] of benchmark(port, scenario.args)) {
            samples[who].set(test, [...(samples[who].get(test) ?? []), rps]);
          }
        }
      }
      for (const [test, redisRuns] of samples.redis) {
        const redis = median(redisRuns);
        const ours = median(samples.ours.get(test) ?? [0]);
        console.log(
          `${scenario.label.padEnd(15)} ${test.padEnd(5)} ${redis.toFixed(0).padStart(12)} ${ours.toFixed(0).padStart(15)}   ${(ours / redis).toFixed(2)}x`,
        );
      }
    }
  } finally {
    for (const stop of stops) stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
