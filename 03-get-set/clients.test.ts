// Real client libraries against step 03, with their default handshakes (HELLO 3, CLIENT
// SETINFO, ioredis's INFO ready check) and with RESP2 forced. A client that dislikes a
// handshake reply reconnects in a loop, so every test also counts reconnections.
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { expectBytes } from '../test/helpers/bytes.ts';
import { startStep, type TestServer } from '../test/helpers/servers.ts';

const BINARY = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x41]);

let server: TestServer;
beforeAll(async () => {
  server = await startStep('03-get-set');
});
afterAll(async () => {
  await server?.close();
});

describe.each([
  { label: 'defaults (RESP3)', options: {} },
  { label: 'RESP2 forced', options: { protocol: 2 as const } },
])('ioredis, $label', ({ options }) => {
  it('connects, sets, gets, increments, pipelines, and quits without reconnecting', async () => {
    const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, ...options });
    let reconnections = 0;
    const errors: Error[] = [];
    client.on('reconnecting', () => reconnections++);
    client.on('error', (err) => errors.push(err));
    onTestFinished(() => client.disconnect());
    await client.connect();
    expect(client.status).toBe('ready');
    await client.flushall();

    expect(await client.set('greeting', 'hello')).toBe('OK');
    expect(await client.get('greeting')).toBe('hello');
    expect(await client.set(Buffer.from('bin\x00key', 'latin1'), BINARY)).toBe('OK');
    expectBytes('GET bin\\x00key', (await client.getBuffer(Buffer.from('bin\x00key', 'latin1'))) ?? Buffer.alloc(0), BINARY, 'binary values come back byte for byte');
    expect(await client.get('missing')).toBeNull();
    expect(await client.incr('counter')).toBe(1);
    expect(await client.incrby('counter', 41)).toBe(42);
    expect(await client.incrbyfloat('float', '1.5')).toBe('1.5');
    expect(await client.mget('greeting', 'missing', 'counter')).toEqual(['hello', null, '42']);
    await expect(client.incr('greeting')).rejects.toThrow('ERR value is not an integer or out of range');

    const results = await client.pipeline().set('p1', 'a').append('p1', 'b').get('p1').del('p1').exists('p1').exec();
    expect(results).toEqual([[null, 'OK'], [null, 2], [null, 'ab'], [null, 1], [null, 0]]);

    const ended = new Promise((resolve) => client.once('end', resolve));
    expect(await client.quit()).toBe('OK');
    await ended;
    expect(reconnections).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe.each([
  { label: 'defaults (RESP3)', options: {} },
  { label: 'RESP2 forced', options: { RESP: 2 as const } },
])('node-redis, $label', ({ options }) => {
  it('connects, sets, gets, increments, pipelines, and closes without reconnecting', async () => {
    const client = createClient({ socket: { port: server.port, host: '127.0.0.1', reconnectStrategy: 10 }, ...options });
    let reconnections = 0;
    const errors: Error[] = [];
    client.on('reconnecting', () => reconnections++);
    client.on('error', (err: Error) => errors.push(err));
    onTestFinished(() => {
      if (client.isOpen) client.destroy();
    });
    await client.connect();
    expect(client.isReady).toBe(true);
    await client.flushAll();

    expect(await client.set('greeting', 'hello')).toBe('OK');
    expect(await client.get('greeting')).toBe('hello');
    const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    expect(await binary.set('bin\x00key', BINARY)).toBe('OK');
    expectBytes('GET bin\\x00key', (await binary.get('bin\x00key')) ?? Buffer.alloc(0), BINARY, 'binary values come back byte for byte');
    expect(await client.get('missing')).toBeNull();
    expect(await client.incr('counter')).toBe(1);
    expect(await client.incrBy('counter', 41)).toBe(42);
    expect(await client.mGet(['greeting', 'missing', 'counter'])).toEqual(['hello', null, '42']);
    await expect(client.incr('greeting')).rejects.toThrow('ERR value is not an integer or out of range');

    const results = await client.multi().set('p1', 'a').append('p1', 'b').get('p1').del('p1').exists('p1').execAsPipeline();
    expect(results).toEqual(['OK', 2, 'ab', 1, 0]);
    const batch = await Promise.all([client.set('x', '1'), client.incr('x'), client.get('x')]);
    expect(batch).toEqual(['OK', 2, '2']);

    await client.close();
    expect(client.isOpen).toBe(false);
    expect(reconnections).toBe(0);
    expect(errors).toEqual([]);
  });
});
