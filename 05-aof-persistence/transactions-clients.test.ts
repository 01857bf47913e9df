// Transactions beyond the shared suite: a watched key that expires (with the server's clock
// in the test's hands), and the transactions of ioredis and node-redis at their default
// options, including a check-and-set retry loop under contention.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { TARGET, startStep, type TestServer } from '../test/helpers/servers.ts';

const STEP = '05-aof-persistence';
const dir = fs.mkdtempSync(join(tmpdir(), 'tx-clients-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));


describe.skipIf(TARGET === 'redis')(`${STEP}: WATCH and the clock`, () => {
  let clock: FakeClock;
  let server: TestServer;
  let client: RawClient;
  beforeEach(async () => {
    clock = new FakeClock();
    server = await startStep(STEP, { dir: fs.mkdtempSync(join(dir, 'clock-')), clock });
    client = await RawClient.connect(server.port);
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
  });

  it('a watched key that expires before EXEC makes EXEC fail, though nothing deleted it yet', async () => {
    await client.expectReply(command('SET', 'lease', 'me', 'PX', '1000') + command('WATCH', 'lease'), '+OK\r\n+OK\r\n');
    clock.setWallClock(clock.now() + 1001); // time passes, but no expiry cycle runs
    await client.expectReply(command('MULTI') + command('SET', 'other', 'x') + command('EXEC'), '+OK\r\n+QUEUED\r\n*-1\r\n');
    await client.expectReply(command('EXISTS', 'other'), ':0\r\n', 'a failed EXEC runs nothing');
  });

  it('the active expiry cycle deleting a watched key makes EXEC fail', async () => {
    await client.expectReply(command('SET', 'lease', 'me', 'PX', '50') + command('WATCH', 'lease'), '+OK\r\n+OK\r\n');
    clock.advance(1000); // ten cycles: the key is gone
    await client.expectReply(command('DBSIZE'), ':0\r\n');
    await client.expectReply(command('MULTI') + command('PING') + command('EXEC'), '+OK\r\n+QUEUED\r\n*-1\r\n');
  });

  it('a key still alive at EXEC lets it run', async () => {
    await client.expectReply(command('SET', 'lease', 'me', 'PX', '1000') + command('WATCH', 'lease'), '+OK\r\n+OK\r\n');
    clock.advance(999);
    await client.expectReply(command('MULTI') + command('PEXPIRE', 'lease', '5000') + command('EXEC'), '+OK\r\n+QUEUED\r\n*1\r\n:1\r\n');
  });
});

describe.skipIf(TARGET === 'redis')(`${STEP}: transactions from client libraries, at their defaults`, () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startStep(STEP, { dir: fs.mkdtempSync(join(dir, 'libs-')), appendfsync: 'always' });
  });
  afterEach(async () => {
    await server.close();
  });

  it('ioredis: multi().exec(), an error in its slot, and a check-and-set retry loop under contention', async () => {
    const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    const rival = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    onTestFinished(() => {
      client.disconnect();
      rival.disconnect();
    });
    await Promise.all([client.connect(), rival.connect()]);

    expect(await client.multi().set('a', '1').incr('a').get('a').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    const [[setError, setReply], [incrError]] = (await client.multi().set('w', 'word').incr('w').exec())!;
    expect([setError, setReply]).toEqual([null, 'OK']);
    expect(incrError?.message).toBe('ERR value is not an integer or out of range');
    await expect(client.multi().call('SET', 'x').exec()).rejects.toThrow(/EXECABORT Transaction discarded because of previous errors/);

    // Check-and-set: read, compute, write only if nobody wrote in between; retry otherwise.
    await client.set('counter', '0');
    let retries = 0;
    const casIncrement = async () => {
      for (;;) {
        await client.watch('counter');
        const value = Number(await client.get('counter'));
        if (retries === 0) await rival.incrby('counter', 100); // a rival writes between GET and EXEC, once
        const result = await client.multi().set('counter', String(value + 1)).exec();
        if (result !== null) return;
        retries++;
      }
    };
    await casIncrement();
    expect(retries).toBe(1);
    expect(await client.get('counter')).toBe('101');
  });

  it('node-redis: multi().exec(), a watched key changed by another client, and execAsPipeline', async () => {
    const client = createClient({ socket: { port: server.port, host: '127.0.0.1', reconnectStrategy: false } });
    const rival = client.duplicate();
    onTestFinished(async () => {
      await Promise.all([client.close(), rival.close()]);
    });
    await Promise.all([client.connect(), rival.connect()]);

    expect(await client.multi().set('a', '1').incr('a').get('a').exec()).toEqual(['OK', 2, '2']);
    await client.watch('a');
    await rival.set('a', 'changed');
    await expect(client.multi().set('a', 'mine').exec()).rejects.toThrow(/watched keys has been changed/i);
    expect(await client.get('a')).toBe('changed');
    expect(await client.multi().set('b', '2').get('b').execAsPipeline()).toEqual(['OK', '2']);
  });
});
