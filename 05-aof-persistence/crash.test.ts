// Step 05's server as its own process, killed the hard way (SIGKILL: no cleanup, no last
// flush), then started again on the same --dir. Every write the server acknowledged must
// be back; a file cut in the middle of a command loads without it; a damaged file stops
// the start, naming the byte offset.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../lib/resp-reply.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { spawnStep, type ChildServer } from '../test/helpers/servers.ts';

const STEP = '05-aof-persistence';

let dir: string;
let running: ChildServer[];
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'aof-crash-'));
  running = [];
});
afterEach(async () => {
  await Promise.all(running.map((s) => s.kill('SIGKILL')));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function spawn(...args: string[]): Promise<ChildServer> {
  const server = await spawnStep(STEP, ['--dir', dir, '--appendfsync', 'always', ...args]);
  running.push(server);
  return server;
}

/** Sends commands in one write (a pipeline) and returns their replies as text. */
async function pipeline(client: RawClient, commands: string[][]): Promise<string[]> {
  client.send(commands.map((args) => command(...args)).join(''));
  const { values } = await client.readReplies(commands.length);
  return values.map((v) => (v.type === 'error' ? `-${v.message}` : 'value' in v ? String(v.value) : v.type));
}

/** Everything a client can observe about these keys: value and deadline of each. */
async function snapshot(port: number, keys: string[]): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    return await pipeline(client, keys.flatMap((k) => [['GET', k], ['PEXPIRETIME', k]]));
  } finally {
    client.destroy();
  }
}

const aofPath = () => join(dir, 'appendonly.aof');

describe('05-aof-persistence survives kill -9', () => {
  // kill -9 kills the process, not the machine: what was written is in the kernel's page
  // cache and reaches the disk anyway. So every policy keeps every acknowledged write here;
  // they differ on a power cut, which a test cannot stage.
  it.each(['always', 'everysec', 'no'])('with appendfsync %s, loses no acknowledged write, round after round', async (policy) => {
    const keys = ['s', 'n', 'gone', 'ttl', 'rel', 'f', ...Array.from({ length: 4 }, (_, i) => `c${i}`)];
    let expected: string[] | undefined;
    for (let round = 0; round < 3; round++) {
      const server = await spawn('--appendfsync', policy);
      if (expected !== undefined) expect(await snapshot(server.port, keys), `round ${round}: after restart`).toEqual(expected);

      // Mixed writes, pipelined, from four clients at once. Each client owns its counter.
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(server.port)));
      const replies = await Promise.all(clients.map((client, i) => pipeline(client, [
        ['SET', 's', `round ${round}`],
        ['INCR', 'n'],
        ...Array.from({ length: 25 }, () => ['INCRBY', `c${i}`, '2']),
        ['SET', 'gone', 'x'],
        ['DEL', 'gone'],
        ['SET', 'ttl', 'v', 'PXAT', String(Date.now() + 3_600_000 + round)],
        ['SET', 'rel', 'v'],
        ['EXPIRE', 'rel', String(1000 + round)],
        ['INCRBYFLOAT', 'f', '0.1'],
      ])));
      for (const r of replies) expect(r.filter((x) => x.startsWith('-'))).toEqual([]);

      expected = await snapshot(server.port, keys);
      await server.kill('SIGKILL'); // at once: the acknowledged writes must already be in the file
      for (const client of clients) client.destroy();
    }
  });

  it('keeps every acknowledged write when killed while clients are still writing', async () => {
    const server = await spawn();
    const progress = new Progress();
    const acked = [0, 0, 0];
    const writers = acked.map(async (_, i) => {
      const client = await RawClient.connect(server.port);
      try {
        for (let batch = 0; ; batch++) {
          // Each batch: ten increments and a key named after the batch, in one write.
          const replies = await pipeline(client, [
            ...Array.from({ length: 10 }, () => ['INCR', `counter${i}`]),
            ['SET', `w${i}:${batch}`, String(batch)],
          ]);
          expect(replies.at(-1)).toBe('OK');
          acked[i] = batch + 1;
          progress.tell();
        }
      } catch {
        // The server died under us: the batch in flight is not acknowledged.
      } finally {
        client.destroy();
      }
    });
    await progress.until(() => acked.every((n) => n >= 5));
    await server.kill('SIGKILL');
    await Promise.all(writers);

    const again = await spawn();
    const client = await RawClient.connect(again.port);
    for (let i = 0; i < acked.length; i++) {
      const [counter] = await pipeline(client, [['GET', `counter${i}`]]);
      // Ten increments per acknowledged batch at least; perhaps one unacknowledged batch more.
      expect(Number(counter)).toBeGreaterThanOrEqual(acked[i]! * 10);
      expect(Number(counter)).toBeLessThanOrEqual((acked[i]! + 1) * 10);
      const values = await pipeline(client, Array.from({ length: acked[i]! }, (_, b) => ['GET', `w${i}:${b}`]));
      expect(values).toEqual(Array.from({ length: acked[i]! }, (_, b) => String(b)));
    }
    client.destroy();
  });

  it('keeps every acknowledged transaction whole, and none in part, when killed mid-stream', async () => {
    const clients = 3;
    for (let round = 0; round < 2; round++) {
      const server = await spawn();
      const progress = new Progress();
      const acked = Array.from({ length: clients }, () => 0);
      if (round === 0) await pipeline(await RawClient.connect(server.port), [['SET', 'pool', '1000000']]);
      const before = await snapshotOf(server.port, clients);
      const writers = acked.map(async (_, i) => {
        const client = await RawClient.connect(server.port);
        try {
          for (let batch = 0; ; batch++) {
            // A transfer between two shared keys, and a pair of keys of this client's own, in
            // one transaction; pipelined, so the server reads several transactions at once.
            const replies = await pipeline(client, [
              ['MULTI'], ['DECRBY', 'pool', '3'], ['INCRBY', 'spent', '3'],
              ['INCR', `a${i}`], ['INCR', `b${i}`], ['SET', `t${i}:${round}:${batch}`, 'done'], ['EXEC'],
            ]);
            expect(replies.at(-1)).toBe('array');
            acked[i] = batch + 1;
            progress.tell();
          }
        } catch {
          // The server died under us: the transaction in flight is not acknowledged.
        } finally {
          client.destroy();
        }
      });
      await progress.until(() => acked.every((n) => n >= 20));
      await server.kill('SIGKILL');
      await Promise.all(writers);

      const after = await snapshotOf((await spawn()).port, clients);
      expect(after.pool + after.spent, `round ${round}: a transfer applied in part`).toBe(1_000_000);
      for (let i = 0; i < clients; i++) {
        expect(after.a[i], `round ${round}, client ${i}: a and b move together`).toBe(after.b[i]);
        expect(after.a[i]! - before.a[i]!).toBeGreaterThanOrEqual(acked[i]!);
        expect(after.a[i]! - before.a[i]!).toBeLessThanOrEqual(acked[i]! + 1);
      }
      const client = await RawClient.connect(running.at(-1)!.port);
      for (let i = 0; i < clients; i++) {
        const marks = await pipeline(client, Array.from({ length: acked[i]! }, (_, b) => ['GET', `t${i}:${round}:${b}`]));
        expect(marks.every((m) => m === 'done'), `round ${round}, client ${i}: every acknowledged transaction is back`).toBe(true);
      }
      client.destroy();
      await running.at(-1)!.kill('SIGKILL');
    }
  });
});

/** What the transaction crash test checks: the shared pool and each client's pair. */
async function snapshotOf(port: number, clients: number): Promise<{ pool: number; spent: number; a: number[]; b: number[] }> {
  const client = await RawClient.connect(port);
  try {
    const keys = ['pool', 'spent', ...Array.from({ length: clients }, (_, i) => [`a${i}`, `b${i}`]).flat()];
    const values = (await pipeline(client, keys.map((k) => ['GET', k]))).map((v) => (v === 'null' ? 0 : Number(v)));
    return { pool: values[0]!, spent: values[1]!, a: values.filter((_, j) => j >= 2 && j % 2 === 0), b: values.filter((_, j) => j >= 2 && j % 2 === 1) };
  } finally {
    client.destroy();
  }
}

/** Writers tell it when they made progress; a test awaits a condition on that progress. */
class Progress {
  private waiters: Array<() => void> = [];

  tell(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

describe('05-aof-persistence on a damaged file', () => {
  const SELECT0 = encodeCommand(['SELECT', '0']);
  const whole = Buffer.concat([SELECT0, encodeCommand(['SET', 'a', '1']), encodeCommand(['SET', 'b', '2'])]);
  const last = encodeCommand(['SET', 'c', 'a value that never fully reached the disk']);

  it('drops a last command cut in the middle (a crash mid-write), with a warning, and truncates the file', async () => {
    fs.writeFileSync(aofPath(), Buffer.concat([whole, last.subarray(0, 20)]));
    const server = await spawn();
    expect(server.output()).toContain('# !!! Warning: short read while loading the AOF file appendonly.aof!!!');
    expect(server.output()).toContain(`# !!! Truncating the AOF appendonly.aof at offset ${whole.length} !!!`);
    expect(server.output()).toMatch(/DB loaded from append only file: \d+\.\d{3} seconds \(3 commands, 2 keys in the dataset\)/);
    expect(fs.readFileSync(aofPath())).toEqual(whole);
    expect(await snapshot(server.port, ['a', 'b', 'c'])).toEqual(['1', '-1', '2', '-1', 'null', '-2']);
  });

  it('refuses to start on garbage in the middle, naming the byte offset, and leaves the file alone', async () => {
    const damaged = Buffer.concat([SELECT0, encodeCommand(['SET', 'a', '1']), Buffer.from('garbage\r\n'), encodeCommand(['SET', 'b', '2'])]);
    fs.writeFileSync(aofPath(), damaged);
    const offset = SELECT0.length + encodeCommand(['SET', 'a', '1']).length;
    await expect(spawn()).rejects.toThrow(
      new RegExp(`exited \\(1\\)[^]*Bad file format reading the append only file appendonly\\.aof at offset ${offset}: expected '\\*', got 'g'`),
    );
    expect(fs.readFileSync(aofPath())).toEqual(damaged);
  });

  it('refuses to start when a length inside a command is damaged', async () => {
    const damaged = Buffer.from(whole.toString('latin1').replace('$1\r\n1\r\n', '$2\r\n1\r\n'), 'latin1');
    fs.writeFileSync(aofPath(), damaged);
    await expect(spawn()).rejects.toThrow(new RegExp(`exited \\(1\\)[^]*at offset ${SELECT0.length}: `));
    expect(fs.readFileSync(aofPath())).toEqual(damaged);
  });

  it.skipIf(!fs.existsSync('/dev/full'))('stops rather than acknowledge a write it could not persist (appendfsync always)', async () => {
    fs.symlinkSync('/dev/full', aofPath()); // every write: ENOSPC
    const server = await spawn();
    const client = await RawClient.connect(server.port);
    client.send(command('SET', 'a', '1'));
    expect((await client.readUntilClose()).toString('latin1')).toBe('');
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain("# Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
  });
});

describe('05-aof-persistence flags', () => {
  it.each([
    [['--appendfsync', 'sometimes'], "bad value for --appendfsync: 'sometimes' is not one of: always, everysec, no"],
    [['--appendonly', 'maybe'], "bad value for --appendonly: 'maybe' is not one of: yes, no"],
    [['--appendfilename', 'sub/file.aof'], "bad value for --appendfilename: appendfilename can't be a path, just a filename"],
    [['--appendfilename', ''], "bad value for --appendfilename: appendfilename can't be empty"],
    [['--dir'], "'--dir' needs a value"],
  ])('%j exits with a one-line reason', async (args, reason) => {
    const attempt = spawnStep(STEP, ['--dir', dir, ...args]);
    const error = await attempt.then(() => undefined, (err: Error) => err.message);
    expect(error).toContain(`exited (2) before it was ready:\nError: ${reason}\n`);
  });
});
