// The load generator's two loops, against a fake server that stalls once, and against a
// real step server. No assertion here is about speed: the stall is 200 ms, and the
// figures asserted are far from it on either side, on any machine.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, persistenceOffFlags, spawnStep, type ChildServer } from '../test/helpers/servers.ts';
import { stepsWithServer } from '../tools/check-docs.ts';
import { ask } from './bench.ts';
import { connectAll, fillKeyspace, type LoadConnection } from './load-connection.ts';
import { runPhase, type Shape } from './load.ts';
import { Workload } from './workload.ts';

const PING = '*1\r\n$4\r\nPING\r\n';
const STALL_MS = 200;

/**
 * Answers +PONG to every PING (the only request the PING workload sends), except that once
 * `stallAt` requests have arrived it answers nothing for STALL_MS, as a server in a GC pause
 * or a slow fsync would, then everything it owes at once.
 */
async function stallingServer(stallAt: number): Promise<{ port: number; close(): Promise<void> }> {
  let arrived = 0;
  let stalled = false;
  const owed = new Map<net.Socket, number>();
  const release = () => {
    stalled = false;
    for (const [socket, n] of owed) socket.write('+PONG\r\n'.repeat(n));
    owed.clear();
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let partial = 0;
    socket.on('data', (chunk) => {
      partial += chunk.length;
      const n = Math.floor(partial / PING.length);
      partial -= n * PING.length;
      if (arrived < stallAt && arrived + n >= stallAt) {
        stalled = true;
        setTimeout(release, STALL_MS);
      }
      arrived += n;
      if (stalled) owed.set(socket, (owed.get(socket) ?? 0) + n);
      else socket.write('+PONG\r\n'.repeat(n));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}

const MS = 1e6; // the histogram counts nanoseconds

async function measureAgainstStall(shape: Shape, requests: number, stallAt: number) {
  const server = await stallingServer(stallAt);
  const connections = await connectAll({ host: '127.0.0.1', port: server.port }, shape.clients);
  try {
    return await runPhase(connections, new Workload({ name: 'ping', valueSize: 3, keys: 1 }), shape, { requests });
  } finally {
    for (const c of connections) c.close();
    await server.close();
  }
}

describe('a server that stalls for 200 ms once', () => {
  it('is one slow sample to a closed loop: its p99 barely moves (coordinated omission)', async () => {
    const outcome = await measureAgainstStall({ kind: 'closed', clients: 1, pipeline: 1 }, 1000, 300);
    expect([outcome.requests, outcome.errors, outcome.latency.count]).toEqual([1000, 0, 1000]);
    // The request in flight when it stalled waited the whole stall...
    expect(outcome.latency.max).toBeGreaterThanOrEqual(STALL_MS * MS);
    // ... and it is about the only one: the loop sent nothing while it waited. (p99 leaves
    // room for nine more slow samples, from a busy machine rather than the stall.)
    expect(outcome.latency.percentile(99)).toBeLessThan(100 * MS);
  });

  it('delays every request due during it in an open loop: its p90 and p99 show the stall', async () => {
    // 1,000 requests at 1,000/s: the stall begins about 0.3 s in, and the 200 or so
    // requests due in the next 200 ms wait for it, the first longest.
    const outcome = await measureAgainstStall({ kind: 'open', clients: 1, rate: 1000 }, 1000, 300);
    expect([outcome.requests, outcome.errors, outcome.latency.count]).toEqual([1000, 0, 1000]);
    expect(outcome.latency.percentile(99)).toBeGreaterThanOrEqual(150 * MS);
    expect(outcome.latency.percentile(90)).toBeGreaterThanOrEqual(50 * MS);
    expect(outcome.latency.max).toBeGreaterThanOrEqual(STALL_MS * 0.9 * MS);
    expect(outcome.lateness?.count).toBe(1000);
  });
});

describe('a load generator that falls behind its schedule', () => {
  it('counts each late request from when it was due, not from when it left', async () => {
    // The server never stalls; the generator does: 0.3 s in, its event loop is blocked for
    // 200 ms (as a GC pause of its own would). The ~200 requests due meanwhile leave late,
    // all at once. Timed from when they left, they would look fast.
    const server = await stallingServer(Infinity);
    const connections = await connectAll({ host: '127.0.0.1', port: server.port }, 1);
    const block = setTimeout(() => {
      const until = performance.now() + STALL_MS;
      while (performance.now() < until);
    }, 300);
    try {
      const outcome = await runPhase(connections, new Workload({ name: 'ping', valueSize: 3, keys: 1 }), { kind: 'open', clients: 1, rate: 1000 }, { requests: 1000 });
      expect([outcome.requests, outcome.errors]).toEqual([1000, 0]);
      expect(outcome.lateness!.percentile(99)).toBeGreaterThanOrEqual(150 * MS);
      expect(outcome.latency.percentile(99)).toBeGreaterThanOrEqual(150 * MS);
      expect(outcome.latency.percentile(90)).toBeGreaterThanOrEqual(50 * MS);
    } finally {
      clearTimeout(block);
      for (const c of connections) c.close();
      await server.close();
    }
  });
});

describe('against a real step server', () => {
  const step = stepsWithServer(ROOT).at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), 'capstone-load-'));
  let server: ChildServer;
  let connections: LoadConnection[] = [];
  const target = () => ({ host: '127.0.0.1', port: server.port });

  beforeAll(async () => {
    server = await spawnStep(step, persistenceOffFlags(step, dir));
  });
  afterAll(async () => {
    for (const c of connections) c.close();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`fills the keyspace, then every request of each loop gets its reply (${step})`, async () => {
    const keys = 500;
    const workload = new Workload({ name: 'mix', valueSize: 10, keys });
    connections = await connectAll(target(), 4);
    await fillKeyspace(connections[0]!, keys, 10);
    expect(await ask(target(), 'DBSIZE')).toEqual({ type: 'integer', value: keys });
    expect(await ask(target(), 'GET', 'key:000000000499')).toEqual({ type: 'bulk', value: 'x'.repeat(10) });

    const closed = await runPhase(connections, workload, { kind: 'closed', clients: 4, pipeline: 8 }, { requests: 3000 });
    expect([closed.requests, closed.errors, closed.latency.count]).toEqual([3000, 0, 3000]);
    const open = await runPhase(connections, workload, { kind: 'open', clients: 4, rate: 4000 }, { requests: 800 });
    expect([open.requests, open.errors, open.latency.count]).toEqual([800, 0, 800]);
    // A warm-up counts its replies but records no latency.
    const warmup = await runPhase(connections, workload, { kind: 'closed', clients: 4, pipeline: 2 }, { requests: 100 }, { record: false });
    expect([warmup.requests, warmup.latency.count]).toEqual([100, 0]);
    // Every request was answered, and none is left in flight.
    expect(connections.map((c) => c.inFlight)).toEqual([0, 0, 0, 0]);
    expect(connections.reduce((sum, c) => sum + c.replies, 0)).toBe(keys + 3000 + 800 + 100);
    expect(await ask(target(), 'DBSIZE')).toEqual({ type: 'integer', value: keys });
  });

  it('runs for a duration: stops sending at its end and waits for what is in flight', async () => {
    const workload = new Workload({ name: 'set', valueSize: 3, keys: 50 });
    const started = performance.now();
    const outcome = await runPhase(connections, workload, { kind: 'closed', clients: 4, pipeline: 4 }, { seconds: 0.3 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(outcome.requests).toBeGreaterThan(0);
    expect([outcome.errors, outcome.latency.count]).toEqual([0, outcome.requests]);
    expect(connections.every((c) => c.inFlight === 0)).toBe(true);
  });

  it('counts error replies, and keeps the first', async () => {
    const [connection] = await connectAll(target(), 1);
    try {
      connection!.send(Buffer.from('*1\r\n$7\r\nNOTACMD\r\n*1\r\n$4\r\nPING\r\n'), 2, performance.now());
      await connection!.whenIdle();
      expect([connection!.replies, connection!.errors]).toEqual([2, 1]);
      expect(connection!.firstError).toMatch(/^ERR unknown command 'NOTACMD'/);
    } finally {
      connection!.close();
    }
  });

  it('says which server it cannot reach', async () => {
    const nobody = await stallingServer(0).then(async (s) => (await s.close(), s.port));
    await expect(connectAll({ host: '127.0.0.1', port: nobody }, 2)).rejects.toThrow(`cannot connect to 127.0.0.1:${nobody}`);
  });
});
