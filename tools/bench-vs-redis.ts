// `make bench`: redis-benchmark against the server of every step from 03 on and real Redis,
// on the same machine, in the same run, so that a learner sees what each capability costs
// (and, at step 10, what the performance work wins back). `make bench STEP=05`: one step.
//
// Each step runs beside a redis-server that persists as it does: steps 03 and 04 beside one
// that persists nothing, steps 05 on beside one with the append-only file on (appendfsync
// everysec, Redis's default when it is on); neither snapshots mid-run. For each scenario
// and test, every server takes its turn before the next test starts, and each round starts
// with a different server, so that whatever else the machine does falls on all alike.
// Before the first round, each server is warmed up (SET and GET, not recorded). Each
// figure is the median of its rounds, reported beside Redis's as a ratio:
//
//   ops/s         as redis-benchmark counts them
//   CPU µs/req    the server's CPU time (user + system, all its threads, from
//                 /proc/PID/stat) over the run, per request: what a request costs the
//                 server, whatever the client or the machine's load did to the ops/s
//
// Environment: STEP (one step), ROUNDS (3), REQUESTS (200000: -c 50 runs that many, -c 1 a
// quarter, -P 16 five times as many).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.ts';
import { stepsWithServer } from './check-docs.ts';
import { cpuSeconds, median, redisBenchmark, startRedisServer, startStepServer, stepFolder, type BenchServer } from './bench-processes.ts';

interface Scenario {
  label: string;
  args: string[];
  /** Requests, as a multiple of REQUESTS. */
  share: number;
}

const SCENARIOS: Scenario[] = [
  { label: '-c 1', args: ['-c', '1'], share: 0.25 },
  { label: '-c 50', args: ['-c', '50'], share: 1 },
  { label: '-c 50 -P 16', args: ['-c', '50', '-P', '16'], share: 5 },
];
const TESTS = ['SET', 'GET'];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REQUESTS = Number(process.env.REQUESTS ?? 200_000);

type Persistence = 'nothing' | 'aof';

/** A server in the table: a step's, or the redis-server the steps that persist alike are held to. */
interface Contender {
  label: string;
  persistence: Persistence;
  isRedis: boolean;
  server: BenchServer;
}

const persistenceOf = (step: string): Persistence => (parseInt(step, 10) >= 5 ? 'aof' : 'nothing');

/** A step's flags for the persistence its Redis runs with: the AOF on from 05 on, no snapshots from 06 on. */
function stepFlags(step: string, dir: string): string[] {
  const n = parseInt(step, 10);
  if (n < 5) return [];
  return ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', ...(n >= 6 ? ['--save', ''] : [])];
}

const REDIS_FLAGS: Record<Persistence, string[]> = { nothing: [], aof: ['--appendonly', 'yes', '--appendfsync', 'everysec'] };
const PERSISTENCE_LABEL: Record<Persistence, string> = { nothing: 'nothing persisted', aof: 'AOF, everysec' };

/** The steps to measure: STEP's, or every step from 03 on that has a server. */
function stepsToMeasure(): string[] {
  if (process.env.STEP) return [stepFolder(process.env.STEP)];
  return stepsWithServer('.').filter((s) => parseInt(s, 10) >= 3);
}

async function startContenders(steps: string[], dir: string): Promise<Contender[]> {
  const contenders: Contender[] = [];
  try {
    for (const persistence of ['nothing', 'aof'] as const) {
      const group = steps.filter((s) => persistenceOf(s) === persistence);
      if (group.length === 0) continue;
      const redis = await startRedisServer(await freePort(), REDIS_FLAGS[persistence]);
      contenders.push({ label: `redis (${PERSISTENCE_LABEL[persistence]})`, persistence, isRedis: true, server: redis });
      for (const step of group) {
        const server = await startStepServer(step, await freePort(), stepFlags(step, join(dir, step)));
        contenders.push({ label: step, persistence, isRedis: false, server });
      }
    }
  } catch (err) {
    for (const c of contenders) await c.server.stop();
    throw err;
  }
  return contenders;
}

interface Samples {
  ops: number[];
  cpuMicros: number[];
}

/** One redis-benchmark run of one test against one server: ops/s, and the server's CPU µs per request. */
function measureOnce(contender: Contender, scenario: Scenario, test: string): { ops: number; cpuMicros: number } {
  const requests = Math.max(1, Math.round(REQUESTS * scenario.share));
  const before = cpuSeconds(contender.server.pid);
  const ops = redisBenchmark(contender.server.port, ['-t', test.toLowerCase(), '-n', String(requests), ...scenario.args]).get(test) ?? NaN;
  return { ops, cpuMicros: ((cpuSeconds(contender.server.pid) - before) * 1e6) / requests };
}

function printTable(contenders: Contender[], samples: Map<string, Samples>): void {
  const key = (c: Contender, scenario: Scenario, test: string) => `${c.label}|${scenario.label}|${test}`;
  const width = Math.max(...contenders.map((c) => c.label.length)) + 2;
  for (const scenario of SCENARIOS) {
    for (const test of TESTS) {
      console.log(`\n${`${scenario.label}, ${test}`.padEnd(width + 2)}${'ops/s'.padStart(10)}${'× Redis'.padStart(10)}${'CPU µs/req'.padStart(13)}${'× Redis'.padStart(10)}`);
      for (const c of contenders) {
        const mine = samples.get(key(c, scenario, test))!;
        const redis = samples.get(key(contenders.find((r) => r.isRedis && r.persistence === c.persistence)!, scenario, test))!;
        const [ops, cpu] = [median(mine.ops), median(mine.cpuMicros)];
        const [redisOps, redisCpu] = [median(redis.ops), median(redis.cpuMicros)];
        console.log(
          `  ${c.label.padEnd(width)}${Math.round(ops).toLocaleString('en-US').padStart(10)}${`${(ops / redisOps).toFixed(2)}×`.padStart(10)}` +
            `${cpu.toFixed(1).padStart(13)}${(redisCpu > 0 ? `${(cpu / redisCpu).toFixed(2)}×` : '-').padStart(10)}`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const steps = stepsToMeasure();
  const version = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const contenders = await startContenders(steps, dir);
  const samples = new Map<string, Samples>();
  try {
    console.log(`redis-benchmark against ${steps.length === 1 ? steps[0] : `steps ${steps[0]!.slice(0, 2)}-${steps.at(-1)!.slice(0, 2)}`} and redis-server ${version}, ${ROUNDS} interleaved ${ROUNDS === 1 ? 'round' : 'rounds'} (medians).`);
    console.log('Each step beside a Redis that persists as it does. CPU µs/req: the server\'s CPU time per request');
    console.log('(/proc/PID/stat, counted in 10 ms ticks: coarse when a run costs the server less than a second).');
    // Warm-up, not recorded: a Node server runs its hot paths interpreted until the JIT
    // compiles them, and the first scenario would pay for it.
    for (const c of contenders) redisBenchmark(c.server.port, ['-t', 'set,get', '-n', String(Math.max(20_000, REQUESTS / 4)), '-c', '50', '-P', '16']);
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...contenders.slice(round % contenders.length), ...contenders.slice(0, round % contenders.length)];
      for (const scenario of SCENARIOS) {
        for (const test of TESTS) {
          for (const c of order) {
            const { ops, cpuMicros } = measureOnce(c, scenario, test);
            const key = `${c.label}|${scenario.label}|${test}`;
            const s = samples.get(key) ?? { ops: [], cpuMicros: [] };
            s.ops.push(ops);
            s.cpuMicros.push(cpuMicros);
            samples.set(key, s);
          }
        }
      }
    }
    printTable(contenders, samples);
  } finally {
    for (const c of contenders) await c.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
