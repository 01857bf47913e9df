// Step 06's server as its own process: killed the hard way in the middle of a BGSAVE (the
// previous snapshot must still load whole), started on a damaged snapshot (it must refuse,
// saying why and where), and started with bad flags.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RdbEntry } from '../lib/rdb.ts';
import { encodeRdb } from '../lib/rdb-encoder.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';
import { spawnStep, type ChildServer } from '../test/helpers/servers.ts';

const STEP = '06-rdb-snapshots';

let dir: string;
let running: ChildServer[];
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'rdb-crash-'));
  running = [];
});
afterEach(async () => {
  await Promise.all(running.map((s) => s.kill('SIGKILL')));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function spawn(...args: string[]): Promise<ChildServer> {
  const server = await spawnStep(STEP, ['--dir', dir, '--save', '', ...args]);
  running.push(server);
  return server;
}

/** Why the server would not start, from what it printed before exiting. */
async function refusal(...args: string[]): Promise<string> {
  return spawnStep(STEP, ['--dir', dir, ...args]).then(
    (server) => {
      running.push(server);
      return 'it started';
    },
    (err: Error) => err.message,
  );
}

const dumpPath = () => join(dir, 'dump.rdb');

describe(`${STEP} survives kill -9 during BGSAVE`, () => {
  it('leaves the previous snapshot whole, and it loads', async () => {
    const server = await spawn();
    const client = await RawClient.connect(server.port);
    await client.expectReply(command('MSET', 'old:1', 'a', 'old:2', 'b') + command('SAVE'), '+OK\r\n+OK\r\n');
    const previous = fs.readFileSync(dumpPath());
    // Enough keys that the save takes many event-loop turns.
    for (let batch = 0; batch < 40; batch++) {
      const args = ['MSET'];
      for (let i = 0; i < 5000; i++) args.push(`new:${batch}:${i}`, 'x'.repeat(20));
      await client.expectReply(command(...args), '+OK\r\n');
    }
    await client.expectReply(command('BGSAVE'), '+Background saving started\r\n');
    const temp = join(dir, `temp-bgsave-${server.process.pid}.rdb`);
    expect(fs.existsSync(temp), 'the save writes to its temp file').toBe(true);
    await server.kill('SIGKILL'); // mid-save: the temp file is half written
    client.destroy();
    expect(fs.readFileSync(dumpPath())).toEqual(previous);

    const again = await spawn();
    expect(again.output()).toContain('* Done loading RDB, keys loaded: 2, keys expired: 0.');
    const after = await RawClient.connect(again.port);
    await after.expectReply(command('MGET', 'old:1', 'old:2') + command('DBSIZE'), '*2\r\n$1\r\na\r\n$1\r\nb\r\n:2\r\n');
    after.destroy();
  });
});

describe(`${STEP} on a damaged snapshot`, () => {
  const entries: RdbEntry[] = [
    { key: 'a', value: '1', deadline: null },
    { key: 'b', value: 'a longer value, long enough to be compressed: aaaaaaaaaaaaaaaaaaaaaaaaaaaa', deadline: null },
  ];
  const good = encodeRdb({ entries, keys: 2, expires: 0 });

  it('refuses a truncated file, naming the byte where it ends', async () => {
    fs.writeFileSync(dumpPath(), good.subarray(0, good.length - 20));
    expect(await refusal()).toMatch(/Error: could not start: Can't load dump\.rdb: .*truncated at byte \d+/);
    expect(fs.readFileSync(dumpPath())).toEqual(good.subarray(0, good.length - 20)); // left as it was
  });

  it('refuses a file with a flipped bit, by its checksum', async () => {
    const flipped = Buffer.from(good);
    flipped[good.length - 30]! ^= 0x10;
    fs.writeFileSync(dumpPath(), flipped);
    expect(await refusal()).toMatch(/Error: could not start: Can't load dump\.rdb: .*(checksum|CRC)/i);
  });

  it('starts empty when there is no file', async () => {
    const server = await spawn();
    const client = await RawClient.connect(server.port);
    await client.expectReply(command('DBSIZE'), ':0\r\n');
    client.destroy();
  });
});

describe(`${STEP} flags`, () => {
  it.each([
    [['--save', '100'], 'bad value for --save: Invalid save parameters'],
    [['--save', '0 1'], 'bad value for --save: Invalid save parameters'],
    [['--save', '10 -1'], 'bad value for --save: Invalid save parameters'],
    [['--save', '10 x'], 'bad value for --save: Invalid save parameters'],
    [['--dbfilename', 'sub/dump.rdb'], "bad value for --dbfilename: dbfilename can't be a path, just a filename"],
  ])('%j exits with a one-line reason', async (args, reason) => {
    expect(await refusal(...args)).toContain(`exited (2) before it was ready:\nError: ${reason}\n`);
  });

  it('takes --save "" (snapshots off) and --save as separate words', async () => {
    for (const save of [[''], ['10', '1', '20', '2']]) {
      const server = await spawn('--save', ...save);
      const client = await RawClient.connect(server.port);
      const value = save.join(' ');
      await client.expectReply(command('CONFIG', 'GET', 'save'), `*2\r\n$4\r\nsave\r\n$${value.length}\r\n${value}\r\n`);
      client.destroy();
    }
  });
});
