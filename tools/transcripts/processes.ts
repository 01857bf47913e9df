// Every process a replay starts runs in a process group of its own (a server started with
// make is make, bash and node; a terminal's bash has whatever it started in the
// background), so stopping it stops all of it. Groups and scratch directories still alive
// are also stopped and removed when the replayer exits, however it exits (an error,
// Ctrl-C): nothing is left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
/** Processes that are not group leaders (real Redis, started by test/helpers/real-redis.ts). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', stopEverything);
}

/** Kills every group still running and removes every scratch directory (synchronously). */
export function stopEverything(): void {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  liveGroups.clear();
  for (const child of liveChildren) child.kill('SIGKILL');
  liveChildren.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export function trackChild(child: ChildProcess): void {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export function trackDir(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Variables the replayer's own runner sets that must not reach what a reader types. */
const NOT_PASSED_ON = /^(MAKELEVEL|MAKEFLAGS|MFLAGS|MAKEOVERRIDES|MAKE_TERMOUT|MAKE_TERMERR|VITEST.*|NODE_ENV|TARGET|EXERCISE_SOLUTIONS|FORCE_COLOR|NODE_OPTIONS)$/;

export function readerEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!NOT_PASSED_ON.test(name)) env[name] = value;
  env.TERM = 'dumb';
  return env;
}

/**
 * A shell line run by bash in a process group of its own, stdout and stderr joined (so the
 * two keep their order, as in a terminal); stdin a pipe or nothing.
 */
export class Group {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  private done = false;

  constructor(script: string, options: { cwd: string; stdin: 'pipe' | 'ignore' }) {
    installExitHook();
    this.child = spawn('bash', ['-c', `exec 2>&1; ${script}`], {
      cwd: options.cwd,
      env: readerEnvironment(),
      detached: true,
      stdio: [options.stdin, 'pipe', 'ignore'],
    });
    const pgid = this.child.pid!;
    liveGroups.add(pgid);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.done = true;
        // What is left of the group (a shell's background job) ends with its leader.
        killGroup(pgid, 'SIGKILL');
        liveGroups.delete(pgid);
        resolve(code ?? signal ?? -1);
      }),
    );
    this.outputEnded = new Promise((resolve) => this.child.stdout!.once('close', () => resolve()));
  }

  /** Resolves once the group's output is closed (after its last process is gone). */
  readonly outputEnded: Promise<void>;

  /** Waits for the leader's exit and the end of its output, at most `ms`; true if both happened. */
  async finished(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = Promise.all([this.exited, this.outputEnded]).then(() => true);
    const result = await Promise.race([done, timeout]);
    clearTimeout(timer);
    return result;
  }

  get running(): boolean {
    return !this.done;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid !== undefined && liveGroups.has(this.child.pid)) killGroup(this.child.pid, signal);
  }

  /** Stops the whole group and waits for its leader. */
  async stop(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}
