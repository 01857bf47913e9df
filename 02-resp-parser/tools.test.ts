// redis-cli against step 02: one-shot and interactive (which starts by asking COMMAND DOCS
// for its hints), printing what it prints for real Redis.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { HAS_SCRIPT, interactiveRedisCli, runProgram } from '../test/helpers/redis-tools.ts';
import { startStep, type TestServer } from '../test/helpers/servers.ts';

describeWithRedis(['redis-server', 'redis-cli'], '02-resp-parser with redis-cli', () => {
  let ours: TestServer;
  let redis: RealRedis;
  beforeAll(async () => {
    [ours, redis] = await Promise.all([startStep('02-resp-parser'), startRealRedis()]);
  });
  afterAll(async () => {
    await Promise.all([ours?.close(), redis?.stop()]);
  });

  it.each([
    [['ping']],
    [['ping', 'hello world']],
    [['--no-raw', 'echo', 'hi']],
    [['echo', 'a\tb']],
    [['--no-raw', 'nosuch']],
    [['-3', '--no-raw', 'ping']],
  ])('redis-cli %j prints the same as for Redis', async (args) => {
    const [expected, received] = await Promise.all([
      runProgram('redis-cli', ['-p', String(redis.port), ...args]),
      runProgram('redis-cli', ['-p', String(ours.port), ...args]),
    ]);
    expect(received).toEqual(expected);
  });

  it.skipIf(!HAS_SCRIPT)('redis-cli interactive shows what it shows for Redis', async () => {
    const lines = ['ping', 'PING "hello world"', 'echo', 'echo hi', 'nosuch thing'];
    const [expected, received] = await Promise.all([interactiveRedisCli(redis.port, lines), interactiveRedisCli(ours.port, lines)]);
    expect(received).toBe(expected);
  });
});
