// Redis's own tools against step 03: redis-cli (one-shot, and --pipe for bulk loading)
// and redis-benchmark. redis-cli's output is compared with what it prints for real Redis.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { command } from '../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../test/helpers/real-redis.ts';
import { HAS_SCRIPT, interactiveRedisCli, runProgram } from '../test/helpers/redis-tools.ts';
import { startStep, type TestServer } from '../test/helpers/servers.ts';

describeWithRedis(['redis-server', 'redis-cli', 'redis-benchmark'], '03-get-set with redis-cli and redis-benchmark', () => {
  let ours: TestServer;
  let redis: RealRedis;
  beforeAll(async () => {
    [ours, redis] = await Promise.all([startStep('03-get-set'), startRealRedis()]);
  });
  afterAll(async () => {
    await Promise.all([ours?.close(), redis?.stop()]);
  });

  // Each session is a list of redis-cli invocations; both servers start it empty.
  const sessions: Array<[string, string[][]]> = [
    ['set and get', [['set', 'k', 'v'], ['get', 'k'], ['--raw', 'get', 'k'], ['--no-raw', 'get', 'k']]],
    ['a value with a space', [['set', 'k', 'a b'], ['--no-raw', 'get', 'k'], ['get', 'k']]],
    ['nil', [['get', 'missing'], ['--no-raw', 'get', 'missing'], ['--no-raw', 'mget', 'missing', 'also']]],
    ['integers and errors', [['incr', 'n'], ['--no-raw', 'incrby', 'n', '41'], ['--no-raw', 'set', 'n', 'x'], ['--no-raw', 'incr', 'n']]],
    ['lists', [['mset', 'a', '1', 'b', '2'], ['--no-raw', 'mget', 'a', 'b', 'c'], ['mget', 'a', 'b'], ['--no-raw', 'keys', 'a']]],
    ['server commands', [['dbsize'], ['--no-raw', 'ping'], ['--no-raw', 'echo', 'hi'], ['--no-raw', 'config', 'get', 'save'], ['flushall']]],
    ['unknown command', [['--no-raw', 'nosuch', 'arg']]],
    ['RESP3', [['-3', 'set', 'k', 'v'], ['-3', '--no-raw', 'get', 'nope'], ['-3', '--no-raw', 'config', 'get', 'appendonly']]],
  ];
  for (const [name, invocations] of sessions) {
    it(`redis-cli one-shot prints the same as for Redis: ${name}`, async () => {
      for (const port of [ours.port, redis.port]) await runProgram('redis-cli', ['-p', String(port), 'flushall']);
      for (const args of invocations) {
        const [expected, received] = await Promise.all([
          runProgram('redis-cli', ['-p', String(redis.port), ...args]),
          runProgram('redis-cli', ['-p', String(ours.port), ...args]),
        ]);
        expect({ args, ...received }).toEqual({ args, ...expected });
      }
    });
  }

  it.skipIf(!HAS_SCRIPT)('redis-cli interactive shows what it shows for Redis', async () => {
    const lines = ['set greeting "hello world"', 'get greeting', 'GET missing', 'incr n', 'mget greeting n x', 'incr greeting', 'nosuch', 'del greeting n'];
    const [expected, received] = await Promise.all([interactiveRedisCli(redis.port, lines), interactiveRedisCli(ours.port, lines)]);
    expect(received).toBe(expected);
  });

  it('redis-cli --pipe loads a few thousand commands with no errors', async () => {
    const count = 3000;
    let input = '';
    for (let i = 0; i < count; i++) input += i % 3 === 2 ? command('INCR', 'counter') : command('SET', `key:${i}`, `value\x00${i}`);
    const result = await runProgram('redis-cli', ['-p', String(ours.port), '--pipe'], input);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`errors: 0, replies: ${count}`);
    expect(result.code).toBe(0);
    const check = await runProgram('redis-cli', ['-p', String(ours.port), 'get', 'counter']);
    expect(check.stdout).toBe(`${count / 3}\n`);
  });

  for (const extra of [[], ['-P', '16']]) {
    it(`redis-benchmark -t set,get ${extra.join(' ')} completes without errors or warnings`, async () => {
      const result = await runProgram('redis-benchmark', ['-p', String(ours.port), '-t', 'set,get', '-n', '5000', '-c', '10', '-q', ...extra]);
      const output = result.stdout + result.stderr;
      expect(output).not.toContain('Could not fetch server CONFIG');
      expect(output).not.toMatch(/error/i); // redis-benchmark stops at the first error reply
      expect(output).toMatch(/^SET: [\d.]+ requests per second/m);
      expect(output).toMatch(/^GET: [\d.]+ requests per second/m);
      expect(result.code).toBe(0);
    });
  }
});
