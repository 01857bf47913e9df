// `make bench-memory`: what a key costs in memory, in a step's server and in real Redis,
// measured the same way in the same run: the growth of the process's resident memory
// (VmRSS, what the machine pays, allocator and garbage collector included) while KEYS
// small keys are loaded, divided by KEYS. Twice: keys without a deadline, and keys with
// one (SET ... EX, far enough away that none expires during the run), each into a fresh
// server. Both servers get the same keys and values, from the capstone's load generator:
// key:000000000000 .. with a VALUE_SIZE-byte value, pipelined 1,000 to a batch.
//
// Environment: STEP (the newest step with a server), KEYS (1000000), VALUE_SIZE (3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask } from '../10-capstone/bench.ts';
import { connectAll, fillKeyspace } from '../10-capstone/load-connection.ts';
import { freePort } from '../test/helpers/ports.ts';
import { persistenceOffFlags } from '../test/helpers/servers.ts';
import { stepsWithServer } from './check-docs.ts';
import { rssBytes, startRedisServer, startStepServer, stepFolder, type BenchServer } from './bench-processes.ts';

const KEYS = Number(process.env.KEYS ?? 1_000_000);
const VALUE_SIZE = Number(process.env.VALUE_SIZE ?? 3);
/** A day: no key expires while the run lasts. */
const EXPIRE_SECONDS = 86_400;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes of resident memory per key that loading KEYS keys adds to a fresh server. */
async function bytesPerKey(server: BenchServer, expireSeconds?: number): Promise<number> {
  const target = { host: '127.0.0.1', port: server.port };
  const [connection] = await connectAll(target, 1);
  try {
    await settle(500);
    const before = rssBytes(server.pid);
    await fillKeyspace(connection!, KEYS, VALUE_SIZE, expireSeconds);
    const dbsize = await ask(target, 'DBSIZE');
    if (dbsize.type !== 'integer' || Number(dbsize.value) !== KEYS) throw new Error(`${server.name} holds ${JSON.stringify(dbsize)} keys, not ${KEYS}`);
    // Let the allocator and the garbage collector catch up with the load before looking.
    await settle(2000);
    return (rssBytes(server.pid) - before) / KEYS;
  } finally {
    connection!.close();
  }
}

async function main(): Promise<void> {
  const step = process.env.STEP ? stepFolder(process.env.STEP) : stepsWithServer('.').at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const rows: Array<{ label: string; redis: number; ours: number }> = [];
  try {
    for (const [label, expire] of [['no deadline', undefined], ['with a deadline', EXPIRE_SECONDS]] as const) {
      const row = { label, redis: 0, ours: 0 };
      for (const who of ['redis', 'ours'] as const) {
        const port = await freePort();
        const server = who === 'redis' ? await startRedisServer(port) : await startStepServer(step, port, persistenceOffFlags(step, join(dir, label)));
        try {
          row[who] = await bytesPerKey(server, expire);
        } finally {
          await server.stop();
        }
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Resident memory per key: ${KEYS.toLocaleString('en-US')} keys (key:000000000000 .., ${VALUE_SIZE}-byte values), redis-server and ${step}, each into a fresh server\n`);
  console.log(`${'bytes per key'.padEnd(20)}${'redis'.padStart(10)}${'ours'.padStart(10)}${'ours / redis'.padStart(15)}`);
  for (const { label, redis, ours } of rows) {
    console.log(`${label.padEnd(20)}${redis.toFixed(1).padStart(10)}${ours.toFixed(1).padStart(10)}${`${(ours / redis).toFixed(2)}×`.padStart(15)}`);
  }
}

await main();
