// ioredis against step 04: its handshake, then expiry through its ordinary methods, with
// the server's clock in the test's hands so "100 seconds later" is instant and exact.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { TARGET, startStep, type TestServer } from '../test/helpers/servers.ts';

describe.skipIf(TARGET === 'redis')('ioredis against 04-expiry', () => {
  const clock = new FakeClock();
  let server: TestServer;
  beforeAll(async () => {
    server = await startStep('04-expiry', { clock });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sets with EX, reads TTL, and sees the key vanish when time passes', async () => {
    const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    let reconnections = 0;
    client.on('reconnecting', () => reconnections++);
    onTestFinished(() => client.disconnect());
    await client.connect();

    expect(await client.set('session', 'abc', 'EX', 100)).toBe('OK');
    expect(await client.ttl('session')).toBe(100);
    expect(await client.pttl('session')).toBe(100_000);
    expect(await client.setex('token', 5, 'xyz')).toBe('OK');
    expect(await client.expire('session', 200, 'GT')).toBe(1);
    expect(await client.getex('token', 'PX', 3000)).toBe('xyz');
    expect(await client.ttl('missing')).toBe(-2);

    clock.advance(3001);
    expect(await client.get('token')).toBeNull();
    expect(await client.ttl('session')).toBe(197);
    expect(await client.persist('session')).toBe(1);
    expect(await client.ttl('session')).toBe(-1);
    await expect(client.set('k', 'v', 'EX', 0)).rejects.toThrow("ERR invalid expire time in 'set' command");
    expect(reconnections).toBe(0);
  });
});
