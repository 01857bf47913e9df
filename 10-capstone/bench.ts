// The capstone's load generator: our server and real Redis under the same load, in the
// same run, side by side. `make 10-capstone` starts both and runs it; run it yourself
// against servers already running with `npx tsx 10-capstone/bench.ts --port 6380
// --redis-port 6379` (`--help` lists the flags).
//
// A run is a list of phases (a closed loop; with --rate, an open loop after it), each run
// against every server in turn, after a warm-up that is not recorded. Rounds alternate the
// order of the servers, so that whatever else the machine does falls on both alike. The
// figures are the servers' throughput and latency percentiles, and their ratio.
import net from 'node:net';
import { FlagError, choiceFlag, integerFlag, isMain, parseFlags, textFlag, yesNoFlag, type Flag, type FlagValues } from '../lib/cli.ts';
import { ReplyParser } from '../lib/resp-reply-parser.ts';
import { encodeCommand } from '../lib/resp-reply.ts';
import type { RespValue } from '../lib/resp.ts';
import { formatCount } from './format.ts';
import { connectAll, fillKeyspace, type LoadConnection, type Target } from './load-connection.ts';
import { runPhase, type Limit, type PhaseOutcome, type PhaseProgress, type Shape } from './load.ts';
import { phaseLabel, textReport, writeReport, type BenchRun, type Measurement, type PhaseSpec, type ServerUnderTest } from './report.ts';
import { MIX_GET_SHARE, WORKLOADS, Workload } from './workload.ts';

/** Seconds, whole or not: `--duration 2.5`. */
function secondsFlag(defaultValue: number): Flag<number> {
  return {
    default: defaultValue,
    parse(text) {
      const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
      if (!(n <= 3600)) throw new FlagError(`'${text}' is not a number of seconds from 0 to 3600`);
      return n;
    },
  };
}

export const FLAGS = {
  host: textFlag('127.0.0.1'),
  port: integerFlag(6380, 1, 65535),
  'redis-port': integerFlag(6379, 0, 65535),
  name: textFlag(''),
  clients: integerFlag(1, 1, 5000),
  pipeline: integerFlag(1, 1, 1000),
  rate: integerFlag(0, 0, 10_000_000),
  requests: integerFlag(0, 0, 1_000_000_000),
  duration: secondsFlag(0),
  warmup: secondsFlag(1),
  rounds: integerFlag(1, 1, 100),
  workload: choiceFlag('mix', WORKLOADS),
  'value-size': integerFlag(3, 0, 1024 * 1024),
  keys: integerFlag(10_000, 1, 10_000_000),
  report: yesNoFlag(true),
  results: textFlag('results', (text) => (text === '' ? "results can't be empty" : undefined)),
};

export type BenchOptions = FlagValues<typeof FLAGS>;

export const USAGE = `Usage: npx tsx 10-capstone/bench.ts [flags]

Benchmarks the server on --port, and real Redis on --redis-port if one answers there,
with the same load, and prints a table per phase (make 10-capstone starts both for you).

Where:
  --host H            the servers' host (127.0.0.1)
  --port N            our server (6380)
  --redis-port N      real Redis (6379); 0: ours alone
  --name TEXT         which server ours is, for the table: ours (TEXT)
How:
  --clients N         connections (1)
  --pipeline N        requests in flight per connection, closed loop (1)
                      --clients 1 --pipeline 1 is the sequential mode: one request at a time
  --rate N            also an open loop of N requests/s, after the closed loop (0: none)
How long:
  --requests N        requests per phase, or
  --duration S        seconds per phase (5 unless --requests)
  --warmup S          seconds of load before measuring, not recorded (1)
  --rounds N          rounds per phase, alternating the servers' order (1)
What:
  --workload W        ping, set, get, or mix (${MIX_GET_SHARE * 100}% GET, ${100 - MIX_GET_SHARE * 100}% SET) (mix)
  --value-size N      bytes per SET value (3)
  --keys N            keys the requests pick from at random (10000)
Report:
  --report yes|no     write Markdown and an SVG chart into --results (yes)
  --results DIR       where (results)`;

/** The phases a run's flags ask for. */
export function phasesOf(options: BenchOptions): PhaseSpec[] {
  const closed: Shape = { kind: 'closed', clients: options.clients, pipeline: options.pipeline };
  const shapes: Shape[] = options.rate > 0 ? [closed, { kind: 'open', clients: options.clients, rate: options.rate }] : [closed];
  return shapes.map((shape) => ({ label: phaseLabel(shape), shape }));
}

export function limitOf(options: BenchOptions): Limit {
  if (options.requests > 0 && options.duration > 0) throw new FlagError('give --requests or --duration, not both');
  return options.requests > 0 ? { requests: options.requests } : { seconds: options.duration || 5 };
}

function describeLoad(options: BenchOptions, limit: Limit): string {
  const what = options.workload === 'mix' ? `mix (${MIX_GET_SHARE * 100}% GET, ${100 - MIX_GET_SHARE * 100}% SET)` : options.workload.toUpperCase();
  const keyed = options.workload === 'ping' ? '' : ` on ${formatCount(options.keys)} keys, ${options['value-size']}-byte values`;
  const length = 'requests' in limit ? `${formatCount(limit.requests)} requests` : `${limit.seconds} s`;
  const warm = options.warmup > 0 ? ` after a ${options.warmup} s warm-up` : ', no warm-up';
  return `${what}${keyed}; ${length} per phase${warm}; ${options.rounds} ${options.rounds === 1 ? 'round' : 'rounds'}`;
}

/** Sends one command on a connection of its own and returns the reply (within 5 s). */
export function ask(target: Target, ...args: string[]): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const parser = new ReplyParser();
    const socket = net.connect({ host: target.host, port: target.port }, () => socket.write(encodeCommand(args)));
    socket.setTimeout(5000, () => {
      reject(new Error(`${target.host}:${target.port} did not answer ${args[0]} within 5 s`));
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      parser.feed(chunk);
      const reply = parser.next();
      if (reply === undefined) return;
      socket.destroy();
      resolve(reply);
    });
    socket.on('error', (err) => reject(new Error(`cannot connect to ${target.host}:${target.port}: ${err.message}`)));
    socket.on('close', () => reject(new Error(`${target.host}:${target.port} closed the connection`)));
  });
}

const text = (reply: RespValue) => (reply.type === 'bulk' || reply.type === 'simple' ? reply.value ?? '' : '');

/** What CONFIG GET says about persistence ("appendonly no, save ''"), or nothing. */
async function persistenceOf(target: Target): Promise<string | undefined> {
  const values: string[] = [];
  for (const name of ['appendonly', 'save']) {
    const reply = await ask(target, 'CONFIG', 'GET', name);
    if (reply.type !== 'array' || reply.items === null || reply.items.length < 2) return undefined;
    values.push(`${name} ${text(reply.items[1]!) === '' ? "''" : text(reply.items[1]!)}`);
  }
  return values.join(', ');
}

/** Real Redis on `target`, if it answers: labelled with its version. */
async function findRedis(target: Target): Promise<ServerUnderTest | undefined> {
  try {
    const info = text(await ask(target, 'INFO', 'server'));
    const version = /^redis_version:(.*)\r?$/m.exec(info)?.[1] ?? '';
    return { label: `redis ${version}`.trim(), role: 'redis', target, persistence: await persistenceOf(target) };
  } catch {
    return undefined;
  }
}

function merge(a: PhaseOutcome | undefined, b: PhaseOutcome): PhaseOutcome {
  if (a === undefined) return b;
  a.latency.add(b.latency);
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    firstError: a.firstError ?? b.firstError,
    seconds: a.seconds + b.seconds,
    latency: a.latency,
    clientCpu: (a.clientCpu * a.seconds + b.clientCpu * b.seconds) / (a.seconds + b.seconds || 1),
    lateness: a.lateness && b.lateness ? (a.lateness.add(b.lateness), a.lateness) : undefined,
  };
}

export interface BenchIo {
  log(line: string): void;
  /** A progress line, redrawn in place; called with '' to clear it. Leave it out for no progress. */
  progress?(line: string): void;
  command: string;
  /** Said before the tables and in the report (make 10-capstone says what stands in for what). */
  notes?: string[];
}

/** Runs the benchmark the options describe; returns the run and the report's files. */
export async function runBench(options: BenchOptions, io: BenchIo): Promise<{ run: BenchRun; files?: { markdown: string; chart: string } }> {
  const limit = limitOf(options);
  const phases = phasesOf(options);
  const ours = await findOurs(options);
  const notes = [...(io.notes ?? [])];
  const redisTarget = { host: options.host, port: options['redis-port'] };
  const redis = options['redis-port'] === 0 ? undefined : await findRedis(redisTarget);
  if (options['redis-port'] !== 0 && redis === undefined) {
    notes.push(`no Redis answers on ${redisTarget.host}:${redisTarget.port}, so this is ours alone. To compare, install Redis (apt-get install redis-server, brew install redis) and run make 10-capstone, which starts one`);
  }
  for (const n of notes) io.log(`Note: ${n}`);
  const servers = redis ? [ours, redis] : [ours];
  const run: BenchRun = { startedAt: new Date(), load: describeLoad(options, limit), command: io.command, servers, phases, measurements: [], notes };
  run.measurements = await measureEach(servers, phases, options, limit, io);
  io.log(textReport(run));
  if (!options.report) return { run };
  const files = writeReport(run, options.results);
  io.log(`\nReport: ${files.markdown}\nChart:  ${files.chart}`);
  return { run, files };
}

/** Our server, which must answer; how it persists, if it says. */
async function findOurs(options: BenchOptions): Promise<ServerUnderTest> {
  const target = { host: options.host, port: options.port };
  try {
    return { label: options.name === '' ? 'ours' : `ours (${options.name})`, role: 'ours', target, persistence: await persistenceOf(target) };
  } catch (err) {
    throw new Error(`nothing answers on ${options.host}:${options.port} (${(err as Error).message}): start your server first, or run make 10-capstone, which starts it`);
  }
}

/**
 * Every phase against every server, round after round, the servers' order alternating;
 * each phase warmed up in the first round. Rounds of a phase are added up.
 */
async function measureEach(servers: ServerUnderTest[], phases: PhaseSpec[], options: BenchOptions, limit: Limit, io: BenchIo): Promise<Measurement[]> {
  const workload = new Workload({ name: options.workload, valueSize: options['value-size'], keys: options.keys });
  const connections = new Map<ServerUnderTest, LoadConnection[]>();
  const outcomes = new Map<string, PhaseOutcome>();
  const key = (server: ServerUnderTest, phase: PhaseSpec) => `${servers.indexOf(server)}/${phases.indexOf(phase)}`;
  try {
    for (const server of servers) {
      connections.set(server, await connectAll(server.target, options.clients));
      if (workload.reads) await fillKeyspace(connections.get(server)![0]!, options.keys, options['value-size']);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        for (const phase of phases) {
          const conns = connections.get(server)!;
          const doing = `${server.label}, ${phase.shape.kind} loop, round ${round + 1}/${options.rounds}`;
          if (round === 0 && options.warmup > 0) {
            io.progress?.(`${doing}: warming up`);
            await runPhase(conns, workload, phase.shape, { seconds: options.warmup }, { record: false });
          }
          const outcome = await withProgress(io, doing, limit, (progress) => runPhase(conns, workload, phase.shape, limit, { progress }));
          outcomes.set(key(server, phase), merge(outcomes.get(key(server, phase)), outcome));
        }
      }
    }
  } finally {
    for (const conns of connections.values()) for (const c of conns) c.close();
  }
  return phases.flatMap((phase) => servers.map((server) => ({ server, phase, outcome: outcomes.get(key(server, phase))! })));
}

/** Runs `measure`, redrawing the progress line five times a second while it runs (if there is one). */
async function withProgress<T>(io: BenchIo, doing: string, limit: Limit, measure: (progress: PhaseProgress) => Promise<T>): Promise<T> {
  const progress: PhaseProgress = { completed: 0, startedAt: performance.now() };
  const ticker = io.progress ? setInterval(() => io.progress!(progressLine(doing, progress, limit)), 200) : undefined;
  ticker?.unref();
  try {
    return await measure(progress);
  } finally {
    clearInterval(ticker);
    io.progress?.('');
  }
}

function progressLine(doing: string, progress: PhaseProgress, limit: Limit): string {
  const seconds = (performance.now() - progress.startedAt) / 1000;
  const of = 'requests' in limit ? ` of ${formatCount(limit.requests)}` : '';
  const rate = seconds > 0 ? `, ${formatCount(progress.completed / seconds)}/s` : '';
  return `${doing}: ${seconds.toFixed(1)} s, ${formatCount(progress.completed)}${of} replies${rate}`;
}

/** Parses the command line: options, or --help's text; throws FlagError on bad flags. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const options = parseFlags(argv, FLAGS);
  limitOf(options);
  return options;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  let options: BenchOptions | 'help';
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`Error: ${err.message} (--help lists the flags)\n`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
  } else {
    const tty = process.stdout.isTTY === true;
    const progress = tty ? (line: string) => process.stdout.write(`\r\x1b[K${line}`) : undefined;
    try {
      await runBench(options, { log: (line) => console.log(line), progress, command: ['npx tsx 10-capstone/bench.ts', ...argv].join(' ') });
    } catch (err) {
      progress?.('');
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
