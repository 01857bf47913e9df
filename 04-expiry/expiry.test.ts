// Step 04's server with its clock in the test's hands: time moves only when the test says
// so, and the active expiry cycle runs only when the moved time makes it due (every 100 ms).
// So "ten seconds later" takes no time at all, and every TTL below is exact.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { useServer } from '../test/helpers/fixtures.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { TARGET, startStep } from '../test/helpers/servers.ts';

/** INFO's value for one field, e.g. expired_keys. */
async function infoField(client: RawClient, field: string): Promise<string | undefined> {
  const reply = (await client.request(command('INFO'))).toString('latin1');
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(reply)?.[1];
}

/** Sends `count` commands in one write and checks they all answered `reply`. */
async function pipeline(client: RawClient, commands: string[], reply: string): Promise<void> {
  client.send(commands.join(''));
  const { bytes } = await client.readReplies(commands.length);
  expect(bytes.toString('latin1')).toBe(reply.repeat(commands.length));
}

describe.skipIf(TARGET === 'redis')('04-expiry with a fake clock', () => {
  // A new server, on a new clock, for every test.
  let clock: FakeClock;
  const t = useServer(() => {
    clock = new FakeClock(Date.UTC(2030, 0, 1));
    return startStep('04-expiry', { clock });
  }, { serverPer: 'each' });

  it('counts TTL down as the clock moves, rounding to the nearest second', async () => {
    await t.client.expectReply(command('SET', 'k', 'v', 'EX', '100'), '+OK\r\n');
    clock.advance(40_000);
    await t.client.expectReply(command('TTL', 'k'), ':60\r\n');
    await t.client.expectReply(command('PTTL', 'k'), ':60000\r\n');
    clock.advance(58_501);
    await t.client.expectReply(command('PTTL', 'k'), ':1499\r\n');
    await t.client.expectReply(command('TTL', 'k'), ':1\r\n', '1.499 s rounds to 1');
    clock.advance(1499);
    await t.client.expectReply(command('PTTL', 'k'), ':0\r\n', 'at its deadline a key still lives, with 0 ms left');
    await t.client.expectReply(command('TTL', 'k'), ':0\r\n');
  });

  it('expires a key lazily: the read after its deadline finds nothing', async () => {
    // 1050 ms: no active cycle (one runs every 100 ms) falls after the deadline.
    await t.client.expectReply(command('SET', 'k', 'v', 'PX', '1050'), '+OK\r\n');
    clock.advance(1050);
    await t.client.expectReply(command('GET', 'k'), '$1\r\nv\r\n', 'the deadline itself is not past yet');
    clock.advance(1);
    await t.client.expectReply(command('DBSIZE'), ':1\r\n', 'expired, but nobody has touched it yet');
    await t.client.expectReply(command('GET', 'k'), '$-1\r\n', 'the first read after the deadline deletes the key');
    await t.client.expectReply(command('DBSIZE'), ':0\r\n');
    expect(await infoField(t.client, 'expired_keys')).toBe('1');
    await t.client.expectReply(command('TTL', 'k'), ':-2\r\n');
  });

  it('reclaims 10,000 expired keys that nobody reads, and leaves keys without deadline', async () => {
    const sessions = Array.from({ length: 10_000 }, (_, i) => command('SET', `session:${i}`, 'x', 'PX', '500'));
    await pipeline(t.client, sessions, '+OK\r\n');
    const users = Array.from({ length: 100 }, (_, i) => command('SET', `user:${i}`, 'x'));
    await pipeline(t.client, users, '+OK\r\n');
    expect(await infoField(t.client, 'db0')).toMatch(/^keys=10100,expires=10000,avg_ttl=\d+$/);

    clock.advance(600); // cycles run at 100, 200, ... 600 ms; the keys died at 500 ms
    await t.client.expectReply(command('DBSIZE'), ':100\r\n', 'the active cycle should have deleted the sessions without any GET');
    expect(await infoField(t.client, 'expired_keys')).toBe('10000');
    expect(await infoField(t.client, 'db0')).toBe('keys=100,expires=0,avg_ttl=0');
  });

  it('schedules its active cycle on the clock, and cancels it on close', async () => {
    expect(clock.scheduledTasks).toBe(1);
    await t.server.close();
    expect(clock.scheduledTasks).toBe(0);
  });

  it('reports keys with a deadline in INFO keyspace', async () => {
    await t.client.request(command('MSET', 'a', '1', 'b', '2', 'c', '3'));
    await t.client.request(command('EXPIRE', 'a', '100'));
    await t.client.request(command('EXPIRE', 'b', '100'));
    clock.advance(100); // one cycle samples them and estimates their average TTL
    expect(await infoField(t.client, 'db0')).toBe('keys=3,expires=2,avg_ttl=99900');
    await t.client.request(command('PERSIST', 'a'));
    expect(await infoField(t.client, 'db0')).toBe('keys=3,expires=1,avg_ttl=99900');
  });

  it('treats deadlines as points in wall-clock time', async () => {
    await t.client.expectReply(command('SET', 'k', 'v', 'EXAT', String(clock.now() / 1000 + 3600)), '+OK\r\n');
    await t.client.expectReply(command('EXPIRETIME', 'k'), `:${clock.now() / 1000 + 3600}\r\n`);
    clock.setWallClock(clock.now() + 3_600_001); // the machine's clock is set an hour ahead
    await t.client.expectReply(command('GET', 'k'), '$-1\r\n', 'an absolute deadline is past once the wall clock is');
  });

  it('applies EXPIRE GT and LT against the fake time', async () => {
    await t.client.request(command('SET', 'k', 'v', 'EX', '100'));
    clock.advance(30_000);
    await t.client.expectReply(command('EXPIRE', 'k', '80', 'GT'), ':1\r\n', '80 s from now is later than 70 s from now');
    await t.client.expectReply(command('EXPIRE', 'k', '75', 'GT'), ':0\r\n');
    await t.client.expectReply(command('EXPIRE', 'k', '75', 'LT'), ':1\r\n');
    await t.client.expectReply(command('TTL', 'k'), ':75\r\n');
  });

  it('keeps a deadline through INCR and APPEND, drops it on SET, GETSET and MSET', async () => {
    const deadline = clock.now() + 10_000;
    for (const key of ['incr', 'append', 'set', 'getset', 'mset']) await t.client.request(command('SET', key, '1', 'PXAT', String(deadline)));
    await t.client.request(command('INCR', 'incr'));
    await t.client.request(command('APPEND', 'append', 'x'));
    await t.client.request(command('SET', 'set', '2'));
    await t.client.request(command('GETSET', 'getset', '2'));
    await t.client.request(command('MSET', 'mset', '2'));
    clock.advance(10_001);
    await t.client.expectReply(command('MGET', 'incr', 'append', 'set', 'getset', 'mset'), '*5\r\n$-1\r\n$-1\r\n$1\r\n2\r\n$1\r\n2\r\n$1\r\n2\r\n');
  });

  it('counts overwriting an expired key as an expiry, as Redis does', async () => {
    await t.client.request(command('SET', 'k', 'v', 'PX', '1050'));
    await t.client.request(command('SET', 'j', 'v', 'PX', '1050'));
    clock.advance(1051);
    await t.client.expectReply(command('SET', 'k', 'w'), '+OK\r\n');
    await t.client.expectReply(command('MSET', 'j', 'w'), '+OK\r\n');
    expect(await infoField(t.client, 'expired_keys')).toBe('2');
    await t.client.expectReply(command('TTL', 'k'), ':-1\r\n');
  });

  it('answers SET GET, EXISTS, DEL and KEYS as if an expired key were not there', async () => {
    await t.client.request(command('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'));
    for (const key of ['a', 'b', 'c']) await t.client.request(command('PEXPIRE', key, '1050'));
    clock.advance(1051);
    await t.client.expectReply(command('KEYS', '*'), '*1\r\n$1\r\nd\r\n');
    await t.client.expectReply(command('SET', 'a', 'new', 'GET'), '$-1\r\n');
    await t.client.expectReply(command('EXISTS', 'b', 'd'), ':1\r\n');
    await t.client.expectReply(command('DEL', 'c', 'd'), ':1\r\n');
    expect(await infoField(t.client, 'expired_keys')).toBe('3');
  });
});
