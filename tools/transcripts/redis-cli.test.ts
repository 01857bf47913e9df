// The redis-cli emulator is held to the real redis-cli 7.0, byte for byte, against a real
// redis-server: what it prints for replies of every type (RESP2 and, with -3, RESP3), what
// SUBSCRIBE prints, and what an interactive session sends and shows. The real program
// prints to a terminal only when it has one: one-shot runs use --no-raw (the terminal's
// formatting, piped), interactive ones run under `script`.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectContent } from '../../test/helpers/bytes.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from '../../test/helpers/real-redis.ts';
import { interactiveRedisCli, runProgram } from '../../test/helpers/redis-tools.ts';
import { RedisCli } from './redis-cli.ts';

/** Every kind of reply redis-cli formats, read-only (each case runs twice: the real program, then the emulator). */
const CASES: string[][] = [
  ['PING'],
  ['SET', 'k', 'v'],
  ['GET', 'k'],
  ['GET', 'nosuch'],
  ['GET', 'bin'],
  ['GET', 'utf8'],
  ['INCRBY', 'counter', '0'],
  ['INCRBY', 'negative', '0'],
  ['INCRBY', 'max', '0'],
  ['INCR', 'k'],
  ['nosuchcommand', 'a', 'b'],
  ['GET'],
  ['KEYS', 'nomatch*'],
  ['LRANGE', 'list', '0', '-1'],
  ['HGETALL', 'h'],
  ['HGETALL', 'nosuch'],
  ['SMEMBERS', 's'],
  ['SMEMBERS', 'nosuch'],
  ['ZSCORE', 'z', 'half'],
  ['ZSCORE', 'z', 'sum'],
  ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
  ['TYPE', 'k'],
  ['BLPOP', 'nosuch', '0.01'],
  ['EXEC'],
  ['CONFIG', 'GET', 'maxmemory*'],
  ['INFO', 'keyspace'],
  ['COMMAND', 'DOCS', 'get'],
  ['COMMAND', 'INFO', 'get', 'nosuch'],
  ['EVAL', 'return {1, {2, {3, "x"}}, {}}', '0'],
  ['EVAL', 'redis.setresp(3); return true', '0'],
  ['EVAL', 'redis.setresp(3); return false', '0'],
  ['EVAL', 'return false', '0'],
  ['EVAL', 'return {double = 3.5}', '0'],
  ['EVAL', 'return {double = 1/0}', '0'],
  ['EVAL', 'return {verbatim_string = {format = "txt", string = "one\\ntwo"}}', '0'],
  ['EVAL', 'return {map = {k = {1, 2}}}', '0'],
  ['EVAL', 'return {map = {k = {1}}}', '0'],
  ['EVAL', 'return {set = {a = true}}', '0'],
  ['EVAL', 'return {err = "My error"}', '0'],
];

/** A proxy in front of a server that keeps what each client sent, in connection order. */
async function recordingProxy(port: number): Promise<{ port: number; sent: Buffer[]; close(): Promise<void> }> {
  const sent: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const index = sent.push(Buffer.alloc(0)) - 1;
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
    client.on('data', (d: Buffer) => {
      sent[index] = Buffer.concat([sent[index]!, d]);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the emulator prints for a one-shot `redis-cli [-3] -p PORT args`, as UTF-8 text (as the real one's stdout is read). */
async function emulatedOneShot(port: number, resp3: boolean, args: string[]): Promise<string> {
  let out = '';
  const cli = new RedisCli({ host: '127.0.0.1', port, resp3 }, (text) => (out += text));
  await cli.connect(true);
  await cli.run(args);
  cli.close();
  return Buffer.from(out, 'latin1').toString('utf8');
}

describeWithRedis(['redis-server', 'redis-cli'], 'the redis-cli emulator prints and sends what redis-cli 7.0 does', () => {
  let redis: RealRedis;
  beforeAll(async () => {
    redis = await startRealRedis(['--databases', '16']);
    const seed = await RawClient.connect(redis.port);
    const setup = [
      ['SET', 'bin', 'a\x00b\r\n\t\x07\x08"\\\xff end'],
      ['SET', 'utf8', Buffer.from('café ☕', 'utf8').toString('latin1')],
      ['SET', 'counter', '41'],
      ['SET', 'negative', '-7'],
      ['SET', 'max', '9223372036854775807'],
      ['RPUSH', 'list', ...Array.from({ length: 12 }, (_, i) => `item ${i + 1}`)],
      ['HSET', 'h', 'field', 'value', 'other', '2'],
      ['SADD', 's', 'only'],
      ['ZADD', 'z', '1.5', 'half', '0.1', 'sum'],
      ['ZINCRBY', 'z', '0.2', 'sum'],
    ];
    for (const args of setup) await seed.request(command(...args));
    seed.destroy();
  });
  afterAll(() => redis?.stop());

  it.each([false, true])('prints every reply type as the real one does (RESP3: %s)', async (resp3) => {
    for (const args of CASES) {
      const real = await runProgram('redis-cli', ['--no-raw', ...(resp3 ? ['-3'] : []), '-p', String(redis.port), ...args]);
      const emulated = await emulatedOneShot(redis.port, resp3, args.map((a) => Buffer.from(a, 'utf8').toString('latin1')));
      expectContent(`the output of redis-cli ${resp3 ? '-3 ' : ''}${args.join(' ')}`, emulated, real.stdout + real.stderr);
    }
  });

  it('says so, as the real one does, when nothing listens', async () => {
    const closed = await startRealRedis();
    const port = closed.port;
    await closed.stop();
    const real = await runProgram('redis-cli', ['--no-raw', '-p', String(port), 'PING']);
    expectContent('the output of redis-cli with nothing listening', await emulatedOneShot(port, false, ['PING']), real.stdout + real.stderr);
  });

  it('prints nothing when SHUTDOWN closes the connection, as the real one does', async () => {
    const outputs: string[] = [];
    for (const run of ['real', 'emulated']) {
      const doomed = await startRealRedis();
      try {
        if (run === 'real') {
          const real = await runProgram('redis-cli', ['--no-raw', '-p', String(doomed.port), 'SHUTDOWN', 'NOSAVE']);
          outputs.push(real.stdout + real.stderr);
        } else {
          outputs.push(await emulatedOneShot(doomed.port, false, ['SHUTDOWN', 'NOSAVE']));
        }
      } finally {
        await doomed.stop();
      }
    }
    expectContent('the output of redis-cli SHUTDOWN NOSAVE', outputs[1]!, outputs[0]!);
  });

  it.each([false, true])('prints SUBSCRIBE\'s and PSUBSCRIBE\'s messages as the real one does (RESP3: %s)', async (resp3) => {
    const [news, weather] = resp3 ? ['news3', 'weather3'] : ['news', 'weather'];
    const runs = [['subscribe', news, weather], ['psubscribe', `${news}.*`]];
    const real = runs.map((args) => {
      const child = spawn('redis-cli', ['--no-raw', ...(resp3 ? ['-3'] : []), '-p', String(redis.port), ...args]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      return { child, output: () => out, exited: new Promise((r) => child.once('exit', r)) };
    });
    const emulated = runs.map(() => ({ text: '' }));
    const clis = emulated.map((e) => new RedisCli({ host: '127.0.0.1', port: redis.port, resp3 }, (t) => (e.text += t)));
    for (const [i, cli] of clis.entries()) {
      await cli.connect(true);
      expect(await cli.run(runs[i]!)).toBe('streaming');
    }
    // Subscribed once the confirmation of the last subscription is printed.
    const confirmed = (text: string, i: number) => text.includes(`(integer) ${runs[i]!.length - 1}`);
    await expect.poll(() => [...real.map((r, i) => confirmed(r.output(), i)), ...emulated.map((e, i) => confirmed(e.text, i))], { timeout: 5000 }).toEqual([true, true, true, true]);
    const publisher = await RawClient.connect(redis.port);
    expect((await publisher.request(command('PUBLISH', news, 'hello'))).toString()).toBe(':2\r\n');
    expect((await publisher.request(command('PUBLISH', `${news}.tech`, 'chips \x00\xff'))).toString()).toBe(':2\r\n');
    expect((await publisher.request(command('PUBLISH', weather, 'rain'))).toString()).toBe(':2\r\n');
    publisher.destroy();
    // Each saw everything once the last message it gets is printed.
    const last = ['"rain"', 'chips'];
    const seen = () => [...real.map((r, i) => r.output().includes(last[i]!)), ...emulated.map((e, i) => e.text.includes(last[i]!))];
    await expect.poll(seen, { timeout: 5000 }).toEqual([true, true, true, true]);
    for (const r of real) r.child.kill('SIGINT');
    await Promise.all(real.map((r) => r.exited));
    for (const cli of clis) expect(await cli.interrupt()).toBe('exit');
    for (const [i, r] of real.entries()) {
      expectContent(`what redis-cli ${runs[i]!.join(' ')} printed`, Buffer.from(emulated[i]!.text, 'latin1'), Buffer.from(r.output(), 'utf8'));
    }
  });

  it.each(['', '-3'])('sends and shows what an interactive redis-cli %s sends and shows', async (options) => {
    const lines = ['SET greeting "hello world"', 'GET greeting', 'GET "unclosed', '', 'SELECT 1', 'SET k "a\\x41"', 'MULTI', 'SET t 1', 'GET k', 'EXEC', 'DISCARD', '2 PING', 'SELECT 0', 'INFO keyspace', 'HGETALL h'];
    const proxy = await recordingProxy(redis.port);
    try {
      const screen = await interactiveRedisCli(proxy.port, lines, options);
      let shown = '';
      const cli = new RedisCli({ host: '127.0.0.1', port: proxy.port, resp3: options === '-3' }, (t) => (shown += t));
      await cli.startInteractive();
      for (const line of lines) {
        shown += `${cli.prompt()}${line}\n`;
        expect(await cli.typeLine(line)).toBe('done');
      }
      shown += `${cli.prompt()}quit\n`;
      expect(await cli.typeLine('quit')).toBe('exit');
      cli.close();
      await expect.poll(() => proxy.sent.length).toBe(2);
      expectContent('what the emulator sent, against what the interactive redis-cli sent', proxy.sent[1]!, proxy.sent[0]!);
      expect(proxy.sent[0]!.toString('latin1')).toMatch(options === '-3' ? /^\*2\r\n\$5\r\nHELLO\r\n\$1\r\n3\r\n\*2\r\n\$7\r\nCOMMAND\r\n\$4\r\nDOCS\r\n\*3\r\n\$3\r\nSET/ : /^\*2\r\n\$7\r\nCOMMAND\r\n\$4\r\nDOCS\r\n\*3\r\n\$3\r\nSET/);
      expectContent('the screen of an interactive session', shown.replaceAll(String(proxy.port), 'PORT'), screen.replace(/\r\n/g, '\n'));
    } finally {
      await proxy.close();
    }
  });
});
