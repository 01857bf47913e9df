// What a server says about itself comes from the server, not from a constant: CONFIG GET
// bind answers the addresses it was started with (steps 03 on), and INFO's uptime is a
// duration on the server's own monotonic clock (steps 04 on, where tests hold the clock).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { RawClient, command } from './helpers/raw-client.ts';
import { ROOT, startStep, type StepName, type TestServer } from './helpers/servers.ts';

/** The steps whose server describes itself (introspection.ts), and those that take a clock. */
const STEPS = readdirSync(ROOT).filter((d) => /^\d\d-/.test(d) && readdirSync(join(ROOT, d)).includes('introspection.ts')) as StepName[];
const CLOCKED = STEPS.filter((s) => parseInt(s, 10) >= 4);

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** Starts `step` in a scratch --dir (ignored by steps before 05), closed after the test. */
async function start(step: StepName, options: object): Promise<RawClient> {
  const dir = mkdtempSync(join(tmpdir(), 'introspection-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const server: TestServer = await startStep(step, { dir, ...options } as object);
  cleanup.push(() => server.close());
  const client = await RawClient.connect(server.port);
  cleanup.push(() => client.destroy());
  return client;
}

const bulkPair = (name: string, value: string) => `*2\r\n$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`;

async function uptime(client: RawClient): Promise<{ seconds: string; days: string }> {
  const text = (await client.request(command('INFO', 'server'))).toString('latin1');
  const field = (name: string) => new RegExp(`^${name}:(\\d+)\\r$`, 'm').exec(text)?.[1] ?? `(no ${name} in ${JSON.stringify(text)})`;
  return { seconds: field('uptime_in_seconds'), days: field('uptime_in_days') };
}

describe.skipIf(process.env.TARGET === 'redis')('the server describes itself', () => {
  for (const step of STEPS) {
    it(`${step}: CONFIG GET bind answers the addresses --bind gave, space-separated`, async () => {
      const one = await start(step, { bind: ['127.0.0.1'] });
      await one.expectReply(command('CONFIG', 'GET', 'bind'), bulkPair('bind', '127.0.0.1'));
      // The default: both loopback addresses (one may be missing on this machine: still configured).
      const both = await start(step, { bind: ['127.0.0.1', '::1'] });
      await both.expectReply(command('CONFIG', 'GET', 'bind'), bulkPair('bind', '127.0.0.1 ::1'));
    });
  }

  for (const step of CLOCKED) {
    it(`${step}: INFO's uptime is measured on the server's monotonic clock`, async () => {
      const clock = new FakeClock();
      const client = await start(step, { clock });
      expect(await uptime(client)).toEqual({ seconds: '0', days: '0' });
      clock.setWallClock(clock.now() + 3 * 86_400_000); // the wall clock stepped (NTP): not time that passed
      expect(await uptime(client)).toEqual({ seconds: '0', days: '0' });
      clock.advance(86_400_000 + 1_500);
      expect(await uptime(client)).toEqual({ seconds: '86401', days: '1' });
    });
  }
});
