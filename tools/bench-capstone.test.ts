// make 10-capstone's runner, as make runs it (PORT and REDIS_PORT free ports here): what it
// starts, what it uses, what it says, and that it stops what it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../test/helpers/ports.ts';
import { describeWithRedis, startRealRedis } from '../test/helpers/real-redis.ts';
import { ROOT } from '../test/helpers/servers.ts';
import { portInUse } from './bench-processes.ts';
import { stepsWithServer } from './check-docs.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-capstone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const step = stepsWithServer(ROOT).includes('10-capstone') ? '10-capstone' : stepsWithServer(ROOT).at(-1)!;

function runCapstone(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/bench-capstone.ts', '--requests', '200', '--warmup', '0', '--results', join(dir, 'results'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const standIn = step === '10-capstone' ? [] : [`Note: 10-capstone/server.ts does not exist yet, so ${step}/server.ts, the newest step with a server, stands in for it`];

describeWithRedis(['redis-server'], 'make 10-capstone with Redis installed', () => {
  it('starts our server and a redis-server, benchmarks both, writes the report, and stops both', async () => {
    const [port, redisPort] = [await freePort(), await freePort()];
    const run = await runCapstone({ PORT: String(port), REDIS_PORT: String(redisPort) });
    expect([run.status, run.stderr]).toEqual([0, '']);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 2 + standIn.length)).toEqual([
      `Starting ${step}/server.ts on port ${port} (nothing persisted).`,
      `Starting redis-server on port ${redisPort} (nothing persisted); it stops when the run ends.`,
      ...standIn,
    ]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ours \\(${step}\\) +[\\d,]+ `)));
    expect(lines).toContainEqual(expect.stringMatching(/^ours \/ redis +\d+\.\d\d×/));
    const report = /^Report: (.*)$/m.exec(run.stdout)?.[1];
    expect(report !== undefined && existsSync(report)).toBe(true);
    expect([await portInUse(port), await portInUse(redisPort)]).toEqual([false, false]);
  });

  it('uses a Redis already running on REDIS_PORT, and leaves it running', async () => {
    const redis = await startRealRedis();
    try {
      const port = await freePort();
      const run = await runCapstone({ PORT: String(port), REDIS_PORT: String(redis.port) });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`\nUsing the Redis that answers on port ${redis.port}.\n`);
      expect(run.stdout).toMatch(/\nours \/ redis +\d+\.\d\d×/);
      expect(await portInUse(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});

describe('make 10-capstone without Redis', () => {
  it('benchmarks ours alone, and says how to get Redis', async () => {
    const [port, redisPort] = [await freePort(), await freePort()];
    // An empty PATH: no redis-server to find (node itself is found by its full path).
    const run = await runCapstone({ PORT: String(port), REDIS_PORT: String(redisPort), PATH: join(dir, 'empty') });
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain(
      `Note: no Redis answers on port ${redisPort}, and redis-server is not installed, so this is ours alone. To compare, install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) and run make 10-capstone again\n`,
    );
    expect(run.stdout).toMatch(new RegExp(`\\nours \\(${step}\\) +[\\d,]+ `));
    expect(run.stdout).not.toContain('ours / redis');
    expect(await portInUse(port)).toBe(false);
  });

  it('refuses a PORT that something else listens on, and bad flags, with one line', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const busy = await runCapstone({ PORT: String(port), REDIS_PORT: String(await freePort()) });
      expect([busy.status, busy.stdout, busy.stderr]).toEqual([1, '', `Error: something already listens on port ${port}; stop it, or give this run another port: make 10-capstone PORT=6390\n`]);
    } finally {
      squatter.close();
    }
    const bad = await runCapstone({}, '--clients', 'many');
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([2, '', "Error: bad value for --clients: 'many' is not an integer (make 10-capstone ARGS=--help lists the flags)\n"]);
  });
});
