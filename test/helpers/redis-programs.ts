// Real Redis's programs, found on PATH: whether they are there, and starting a
// redis-server. No test framework here, so tools (the transcript replayer) use it too;
// real-redis.ts adds the vitest side (describeWithRedis).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export interface RealRedis {
  port: number;
  process: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts redis-server on a free loopback port (or `fixedPort`) in a temporary directory
 * (or `dir`), with persistence off and one database (like the workshop's servers) unless
 * `args` says otherwise.
 */
export async function startRealRedis(args: string[] = [], dir?: string, fixedPort?: number): Promise<RealRedis> {
  const workDir = dir ?? mkdtempSync(join(tmpdir(), 'real-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = fixedPort ?? (await freePort());
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
      if (attempt < 3 && fixedPort === undefined && /Address already in use/.test(output)) continue;
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
