// Real Redis, for differential tests and as the reference (TARGET=redis). Its programs
// are found on PATH. Without them, tests that need them skip with a reason; with
// REQUIRE_REDIS=1 (as CI runs) a missing Redis fails instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { freePort, waitForPort } from './ports.ts';

export type RedisTool = 'redis-server' | 'redis-cli' | 'redis-benchmark' | 'redis-check-aof' | 'redis-check-rdb';

/** True when `program` is on PATH. */
export function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

export function hasTool(tool: RedisTool): boolean {
  return onPath(tool);
}

export const REQUIRE_REDIS = process.env.REQUIRE_REDIS === '1';

/**
 * `describe` for a suite that needs these Redis programs: runs it when they are on PATH;
 * otherwise skips it with a one-line reason, or fails it under REQUIRE_REDIS=1.
 */
export function describeWithRedis(tools: RedisTool[], name: string, body: () => void): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `${missing.join(', ')} not found on PATH (install Redis: apt-get install redis-server redis-tools)`;
  if (REQUIRE_REDIS) {
    describe(name, () => {
      throw new Error(`REQUIRE_REDIS=1 but ${reason}`);
    });
    return;
  }
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

export interface RealRedis {
  port: number;
  process: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts redis-server on a free loopback port in a temporary directory, with persistence
 * off and one database (like the workshop's servers) unless `args` says otherwise.
 */
export async function startRealRedis(args: string[] = [], dir?: string): Promise<RealRedis> {
  const workDir = dir ?? mkdtempSync(join(tmpdir(), 'real-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--databases', '1',
        '--dir', workDir, '--loglevel', 'warning', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = await Promise.race([waitForPort(port).then(() => true), exited.then(() => false)]);
    if (!started) {
      if (attempt < 3 && /Address already in use/.test(output)) continue;
      throw new Error(`redis-server did not start: ${output}`);
    }
    await untilLoaded(port);
    return {
      port,
      process: child,
      dir: workDir,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        if (dir === undefined) rmSync(workDir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * Redis accepts connections while it still loads its files, and answers -LOADING to every
 * command until it is done: a slow machine makes that window long enough for a test to hit.
 * Asks PING until the answer is +PONG.
 */
async function untilLoaded(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
      socket.once('data', (chunk) => {
        socket.destroy();
        resolve(chunk.toString('latin1'));
      });
      socket.once('error', (err) => resolve(`-${err.message}`));
    });
    if (reply.startsWith('+PONG')) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} still answers ${reply.trim()} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
