// `make bench-pubsub`: step 07's fan-out against a real redis-server on the same machine, in
// the same run, measured the same way, reported as ratios (ours / Redis):
//
//   fan-out     N subscribers on one channel; a publisher pipelines PUBLISHes of 64-byte
//               messages; the clock stops when every subscriber has every message
//   no one      PUBLISH to a channel nobody listens to, with 0 and 1,000 patterns that match
//               nothing subscribed (redis-benchmark, -P 16): each PUBLISH tries every pattern
import { once } from 'node:events';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { freePort } from '../test/helpers/ports.ts';
import { redisBenchmark, startRedisServer, startStepServer, stepFolder } from './bench-processes.ts';
import { persistenceOffFlags } from '../test/helpers/servers.ts';

const MESSAGE = 'm'.repeat(64);

/**
 * A subscriber that only counts the bytes it receives (a client that kept them all would
 * become the bottleneck): resolves once `bytes` have arrived after its confirmation.
 */
async function countingSubscriber(port: number, channel: string): Promise<(bytes: number) => Promise<void>> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  socket.write(command('SUBSCRIBE', channel));
  const confirmation = `*3\r\n$9\r\nsubscribe\r\n$${channel.length}\r\n${channel}\r\n:1\r\n`.length;
  let received = 0;
  let target = Infinity;
  let done = () => {};
  const confirmed = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= confirmation) resolve();
      if (received >= confirmation + target) {
        socket.destroy();
        done();
      }
    });
  });
  await confirmed;
  return (bytes) => new Promise<void>((resolve) => {
    target = bytes;
    done = resolve;
    if (received >= confirmation + target) resolve();
  });
}

/** Messages delivered per second to `subscribers` subscribers of one channel. */
async function fanOut(port: number, subscribers: number, messages: number): Promise<number> {
  const subs = await Promise.all(Array.from({ length: subscribers }, () => countingSubscriber(port, 'bench')));
  const publisher = await RawClient.connect(port);
  try {
    const one = `*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$${MESSAGE.length}\r\n${MESSAGE}\r\n`.length;
    const started = performance.now();
    const received = Promise.all(subs.map((waitFor) => waitFor(one * messages)));
    const batch = command('PUBLISH', 'bench', MESSAGE).repeat(100);
    for (let sent = 0; sent < messages; sent += 100) await publisher.request(batch, 100);
    await received;
    return (messages * subscribers) / ((performance.now() - started) / 1000);
  } finally {
    publisher.destroy();
  }
}

/** PUBLISH/s to a channel nobody listens to, while `patterns` patterns are subscribed. */
async function publishToNobody(port: number, patterns: number): Promise<number> {
  const subscriber = await RawClient.connect(port);
  try {
    if (patterns > 0) await subscriber.request(command('PSUBSCRIBE', ...Array.from({ length: patterns }, (_, i) => `pattern:${i}:*`)), patterns);
    return [...redisBenchmark(port, ['-n', '200000', '-c', '50', '-P', '16', 'publish', 'nobody', 'x']).values()][0] ?? NaN;
  } finally {
    subscriber.destroy();
  }
}

async function main(): Promise<void> {
  const step = stepFolder(process.env.STEP ?? '07');
  const dir = mkdtempSync(join(tmpdir(), 'bench-pubsub-'));
  const results = new Map<string, [number, number]>();
  try {
    const ports = { redis: await freePort(), ours: await freePort() };
    const servers = [await startRedisServer(ports.redis), await startStepServer(step, ports.ours, persistenceOffFlags(step, join(dir, 'ours')))];
    try {
      const record = (label: string, who: 0 | 1, value: number) => {
        const row = results.get(label) ?? [0, 0];
        row[who] = value;
        results.set(label, row);
      };
      for (const [subscribers, messages] of [[1, 100_000], [100, 5_000], [1000, 500]] as const) {
        record(`fan-out to ${subscribers} (deliveries/s)`, 0, await fanOut(ports.redis, subscribers, messages));
        record(`fan-out to ${subscribers} (deliveries/s)`, 1, await fanOut(ports.ours, subscribers, messages));
      }
      for (const patterns of [0, 1000]) {
        record(`PUBLISH to no one, ${patterns} patterns (/s)`, 0, await publishToNobody(ports.redis, patterns));
        record(`PUBLISH to no one, ${patterns} patterns (/s)`, 1, await publishToNobody(ports.ours, patterns));
      }
    } finally {
      for (const server of servers) await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${step} against redis-server\n`);
  console.log(`${''.padEnd(40)} ${'redis'.padStart(12)} ${'ours'.padStart(12)}   ratio`);
  for (const [label, [redis, ours]] of results) {
    console.log(`${label.padEnd(40)} ${redis.toFixed(0).padStart(12)} ${ours.toFixed(0).padStart(12)}   ${(ours / redis).toFixed(2)}x`);
  }
}

await main();
