// Starting the server under test: a step's server in this process on port 0 (fast, the
// default), a step's server as a child process (for crash and signal tests), or real
// Redis instead of either when TARGET=redis, to see the reference behaviour.
import { spawn, type ChildProcess } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRealRedis } from './redis-programs.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TestServer {
  port: number;
  /** 'redis' when TARGET=redis put real Redis in the step's place. */
  target: 'step' | 'redis';
  close(): Promise<void>;
}

/**
 * Every step's server module, for its types only: each step's own options are checked, so
 * a misspelled option (`{ appendfysnc: 'always' }`) fails the type check instead of being
 * ignored. A new step adds its line.
 */
interface StepModules {
  '01-tcp-echo': typeof import('../../01-tcp-echo/server.ts');
  '02-resp-parser': typeof import('../../02-resp-parser/server.ts');
  '03-get-set': typeof import('../../03-get-set/server.ts');
  '04-expiry': typeof import('../../04-expiry/server.ts');
  '05-aof-persistence': typeof import('../../05-aof-persistence/server.ts');
  '06-rdb-snapshots': typeof import('../../06-rdb-snapshots/server.ts');
  '07-pubsub': typeof import('../../07-pubsub/server.ts');
}

export type StepName = keyof StepModules;

/** What `step`'s startServer accepts (later steps take more: dir, appendonly, clock, ...). */
export type StepOptions<S extends StepName> = NonNullable<Parameters<StepModules[S]['startServer']>[0]>;

/** The shape every step's startServer has, whatever its options. */
type StartServer = (options: object) => Promise<{ port: number; close(): Promise<void> }>;

export const TARGET = process.env.TARGET === 'redis' ? 'redis' : 'step';

/**
 * The flags that make a step's server persist nothing, with its files (if any) in `dir`:
 * as a redis-server with `--save '' --appendonly no`. Steps before 05 have no such flags
 * (and refuse them); from 05 on the append-only file is on unless told otherwise; from 06
 * on so are snapshots.
 */
export function persistenceOffFlags(step: string, dir: string): string[] {
  const n = parseInt(step, 10);
  if (n < 5) return [];
  return ['--dir', dir, '--appendonly', 'no', ...(n >= 6 ? ['--save', ''] : [])];
}

/** The server.ts a test should run: the step's own, or an exercise's solution build. */
export function serverPath(step: string, exercise?: string): string {
  const builds = process.env.EXERCISE_SOLUTIONS;
  if (exercise !== undefined && builds) return join(builds, step, exercise, step, 'server.ts');
  return join(ROOT, step, 'server.ts');
}

/** Starts `step`'s server in this process on a free port (or real Redis if TARGET=redis). */
export async function startStep<S extends StepName>(step: S, options?: StepOptions<S>, exercise?: string): Promise<TestServer> {
  if (TARGET === 'redis') {
    const redis = await startRealRedis();
    return { port: redis.port, target: 'redis', close: () => redis.stop() };
  }
  const module = (await import(pathToFileURL(serverPath(step, exercise)).href)) as { startServer: StartServer };
  const server = await module.startServer({ port: 0, bind: ['127.0.0.1'], loglevel: 'warning', ...options });
  return { port: server.port, target: 'step', close: () => server.close() };
}

/**
 * For an exercise check: starts the server the check is about. The check's path says
 * which (NN-step/exercises/ID.check.ts); under EXERCISE_SOLUTIONS the reference
 * solution's build runs instead of the learner's code. The options are not checked
 * against the step's: an exercise may be the one that adds them (--maxclients).
 */
export function startExerciseServer(checkUrl: string, options: object = {}): Promise<TestServer> {
  const file = fileURLToPath(checkUrl);
  const step = basename(dirname(dirname(file))) as StepName;
  const exercise = basename(file).replace(/\.check\.ts$/, '');
  return startStep(step, options as StepOptions<StepName>, exercise);
}

export interface ChildServer {
  port: number;
  process: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs `step`'s server.ts as its own process, as a learner does with make, on a free port.
 * Resolves once it logs "Ready to accept connections"; rejects with its output if it exits
 * first.
 */
export function spawnStep(step: string, args: string[] = [], options: { cwd?: string; exercise?: string } = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverPath(step, options.exercise), '--port', '0', '--bind', '127.0.0.1', ...args], {
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /Ready to accept connections on [^\s,]*:(\d+)/.exec(output);
      if (ready) {
        resolve({
          port: Number(ready[1]),
          process: child,
          output: () => output,
          exited,
          kill(signal = 'SIGKILL') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    void exited.then((code) => reject(new Error(`${step} exited (${code}) before it was ready:\n${output}`)));
  });
}
