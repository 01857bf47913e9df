// What the benchmarks share: finding a step's folder, starting a server as a process of
// its own (a step's, or redis-server) and waiting until it accepts connections, what a
// process has used so far (CPU time and memory, from /proc), and running redis-benchmark.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { waitForPort } from '../test/helpers/ports.ts';
import { startRealRedis } from '../test/helpers/redis-programs.ts';

/** "03" or "3" -> "03-get-set". */
export function stepFolder(step: string): string {
  const match = readdirSync('.').find((d) => d.startsWith(step.padStart(2, '0') + '-'));
  if (match === undefined) throw new Error(`no step ${step}`);
  return match;
}

/** A server the benchmark started: its process id (for /proc) and how to stop it. */
export interface BenchServer {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `step`'s server.ts on `port` with `args` (quiet: --loglevel warning), as `make
 * NN-step` would; resolves once it accepts connections, or rejects with what it printed if
 * it exits first.
 */
export async function startStepServer(step: string, port: number, args: string[] = []): Promise<BenchServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${step}/server.ts`, '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const forget = killOnExit(child);
  const listening = await Promise.race([waitForPort(port, 30_000).then(() => true), exited.then(() => false)]);
  if (!listening) throw new Error(`${step}/server.ts exited before it listened on ${port}: ${stderr.trim()}`);
  return {
    name: step,
    pid: child.pid!,
    port,
    async stop() {
      forget();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Starts redis-server on `port`, persisting nothing unless `args` say otherwise, in a directory of its own. */
export async function startRedisServer(port: number, args: string[] = []): Promise<BenchServer> {
  const redis = await startRealRedis(args, undefined, port);
  const forget = killOnExit(redis.process);
  return {
    name: 'redis',
    pid: redis.process.pid!,
    port,
    stop() {
      forget();
      return redis.stop();
    },
  };
}

/**
 * Kills a server this process started if this process exits without stopping it (an error
 * nobody caught, a closed stdout: `make bench | head`), so that no server outlives its
 * benchmark. Returns what stop() calls to take the guard away.
 */
function killOnExit(child: ChildProcess): () => void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}

/** Does anything answer PING with +PONG on this port? */
export function answersPing(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host }, () => socket.write('PING\r\n'));
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('latin1').startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Is something listening on this port (whatever it speaks)? */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The kernel's clock ticks per second, the unit of /proc/PID/stat's CPU times (asked once, when needed). */
let clockTicks: number | undefined;
function clockTicksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
  return clockTicks;
}

/**
 * CPU time (user + system, every thread) a process has used so far, in seconds, from
 * /proc/PID/stat: fields 14 and 15, counted after the command name, which is in
 * parentheses and may itself hold spaces and parentheses.
 */
export function cpuSeconds(pid: number): number {
  return cpuTicksOf(readFileSync(`/proc/${pid}/stat`, 'latin1')) / clockTicksPerSecond();
}

export function cpuTicksOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is fields[0]: utime (14) is fields[11], stime (15) fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident memory of a process, in bytes, from /proc/PID/status (VmRSS). */
export function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** Runs redis-benchmark with --csv; returns requests per second per test ("SET", "GET"). */
export function redisBenchmark(port: number, args: string[]): Map<string, number> {
  const run = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`redis-benchmark failed: ${run.stderr || run.error?.message}`);
  const rps = new Map<string, number>();
  for (const line of run.stdout.split('\n').slice(1)) {
    const [test, value] = line.split(',').map((field) => field.replace(/"/g, ''));
    if (test && value) rps.set(test, Number(value));
  }
  return rps;
}

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
