// `make bench-bgsave`: how long clients wait while a BGSAVE of a large dataset runs, and
// how long the save takes, for a step's server and for a real redis-server on the same
// machine, in the same run. Redis forks (the child gets a copy-on-write view for the price
// of the fork); the step writes a frozen view in slices between event-loop turns. Both are
// measured the same way:
//
//   1. load KEYS keys (pipelined MSET);
//   2. a probe client runs a closed loop of SET then GET on random keys, timing each round
//      trip, while a BGSAVE runs (and, for comparison, for as long without one);
//   3. the save time is from BGSAVE's reply until INFO says the save is over.
//
// Results are figures side by side and ratios (ours / Redis), never a pass or fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startRedisServer, startStepServer, stepFolder } from './bench-processes.ts';
import { persistenceOffFlags } from '../test/helpers/servers.ts';

const KEYS = Number(process.env.KEYS ?? 1_000_000);
const STEP = process.env.STEP ?? '06';

interface Measurement {
  saveMs: number;
  probes: number;
  maxWaitMs: number;
  p99WaitMs: number;
  idleMaxWaitMs: number;
}

/** Fills the server with KEYS keys of 16-byte values, 1,000 per MSET, 50 MSETs per write. */
async function populate(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  const perCommand = 1000;
  const perWrite = 50;
  for (let first = 0; first < KEYS; first += perCommand * perWrite) {
    let batch = '';
    let commands = 0;
    for (let start = first; start < Math.min(KEYS, first + perCommand * perWrite); start += perCommand) {
      const args = ['MSET'];
      for (let i = start; i < Math.min(KEYS, start + perCommand); i++) args.push(`key:${i}`, `value-${String(i).padStart(10, '0')}`);
      batch += command(...args);
      commands++;
    }
    await client.request(batch, commands);
  }
  client.destroy();
}

async function persistenceField(client: RawClient, field: string): Promise<string> {
  const info = (await client.request(command('INFO', 'persistence'))).toString('latin1');
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(info)?.[1] ?? '';
}

/** Round trips of SET-then-GET on random keys until `stop()` says so; returns each wait in ms. */
async function probe(client: RawClient, stop: () => boolean): Promise<number[]> {
  const waits: number[] = [];
  while (!stop()) {
    const key = `key:${Math.floor(Math.random() * KEYS)}`;
    const started = performance.now();
    await client.request(command('SET', key, 'changed-during-save') + command('GET', key), 2);
    waits.push(performance.now() - started);
  }
  return waits;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function measure(port: number): Promise<Measurement> {
  await populate(port);
  const [control, prober] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
  try {
    let saving = true;
    const started = performance.now();
    await control.request(command('BGSAVE'));
    const waitsPromise = probe(prober, () => !saving);
    while ((await persistenceField(control, 'rdb_bgsave_in_progress')) !== '0') await new Promise((r) => setTimeout(r, 5));
    const saveMs = performance.now() - started;
    saving = false;
    const waits = (await waitsPromise).sort((a, b) => a - b);
    if ((await persistenceField(control, 'rdb_last_bgsave_status')) !== 'ok') throw new Error('BGSAVE failed');
    // The same probe with no save running, for as long, as the baseline.
    const until = performance.now() + saveMs;
    const idle = (await probe(prober, () => performance.now() > until)).sort((a, b) => a - b);
    return { saveMs, probes: waits.length, maxWaitMs: waits.at(-1) ?? 0, p99WaitMs: percentile(waits, 99), idleMaxWaitMs: idle.at(-1) ?? 0 };
  } finally {
    control.destroy();
    prober.destroy();
  }
}

async function main(): Promise<void> {
  const step = stepFolder(STEP);
  const dir = mkdtempSync(join(tmpdir(), 'bench-bgsave-'));
  const results: Array<[string, Measurement]> = [];
  try {
    for (const who of ['redis', step]) {
      const port = await freePort();
      const server = who === 'redis' ? await startRedisServer(port) : await startStepServer(step, port, persistenceOffFlags(step, join(dir, who)));
      try {
        results.push([who, await measure(port)]);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [[, redis], [, ours]] = results as [[string, Measurement], [string, Measurement]];
  const row = (label: string, r: number, o: number, unit = 'ms') =>
    console.log(`${label.padEnd(36)} ${r.toFixed(1).padStart(10)} ${o.toFixed(1).padStart(10)} ${unit}   ${(o / r).toFixed(2)}x`);
  console.log(`BGSAVE of ${KEYS} keys while a client writes and reads: redis-server and ${step}\n`);
  console.log(`${''.padEnd(36)} ${'redis'.padStart(10)} ${'ours'.padStart(10)}`);
  row('save time', redis.saveMs, ours.saveMs);
  row('longest client wait during the save', redis.maxWaitMs, ours.maxWaitMs);
  row('p99 client wait during the save', redis.p99WaitMs, ours.p99WaitMs);
  row('longest client wait, no save running', redis.idleMaxWaitMs, ours.idleMaxWaitMs);
  console.log(`\nround trips during the save: redis ${redis.probes}, ours ${ours.probes}`);
}

await main();
