// Exercise 1: a BGSAVE's progress in INFO persistence. Run: make check STEP=06 EX=1
//
// Redis 7.0 has these three fields: TARGET=redis make check STEP=06 EX=1 runs the same check
// against a real redis-server, its save slowed down with rdb-key-save-delay (a hidden
// setting Redis's own tests use) so that there is time to watch it. Against your server
// the save is cut into slices of 10 keys (200 slices), for the same reason.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectContent } from '../../test/helpers/bytes.ts';
import type { RespValue } from '../../lib/resp.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const KEYS = 2000;

interface Progress {
  /** The INFO reply, for messages. */
  text: string;
  perc: string;
  processed: string;
  total: string;
  inProgress: string;
}

describe('exercise 1: current_fork_perc, current_save_keys_processed, current_save_keys_total', () => {
  let dir: string;
  let server: TestServer;
  let c: RawClient;

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'save-progress-'));
    server = await startExerciseServer(import.meta.url, { dir, save: [], bgsaveSliceEntries: 10 });
    c = await RawClient.connect(server.port);
    if (server.target === 'redis') await c.expectReply(command('CONFIG', 'SET', 'rdb-key-save-delay', '1500'), '+OK\r\n');
  });
  afterEach(async () => {
    c.destroy();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function parse(text: string): Progress {
    const field = (name: string) => new RegExp(`^${name}:(.*)\r$`, 'm').exec(text)?.[1] ?? `(no ${name} line)`;
    return {
      text,
      perc: field('current_fork_perc'),
      processed: field('current_save_keys_processed'),
      total: field('current_save_keys_total'),
      inProgress: field('rdb_bgsave_in_progress'),
    };
  }

  /** INFO persistence's reply, as text. */
  const infoText = (reply: RespValue | undefined) => (reply?.type === 'bulk' ? (reply.value ?? '') : reply?.type === 'verbatim' ? reply.text : '');

  async function progress(): Promise<Progress> {
    c.send(command('INFO', 'persistence'));
    return parse(infoText((await c.readReplies(1)).values[0]));
  }

  /** The three fields, as the lines INFO prints, in Redis's order. */
  const lines = (p: Pick<Progress, 'perc' | 'processed' | 'total'>) =>
    `current_fork_perc:${p.perc}\r\ncurrent_save_keys_processed:${p.processed}\r\ncurrent_save_keys_total:${p.total}\r\n`;

  /** The three lines as the reply holds them (consecutive, or not there at all). */
  function shown(p: Progress): string {
    const at = p.text.indexOf('current_fork_perc:');
    return at < 0 ? '' : p.text.slice(at, at + lines(p).length);
  }

  function expectIdle(p: Progress, when: string, hint: string): void {
    const idle = { perc: '0.00', processed: '0', total: '0' };
    expectContent(`INFO persistence ${when}`, shown(p), lines(idle), hint);
  }

  async function fill(): Promise<void> {
    const args = ['MSET'];
    for (let i = 0; i < KEYS; i++) args.push(`key:${i}`, `value:${i}`);
    await c.expectReply(command(...args), '+OK\r\n');
  }

  /** Checks one reading taken while a save runs; returns its processed count. */
  function checkRunning(p: Progress, totalWanted: number, processedBefore: number): number {
    expect(
      ['current_fork_perc:', 'current_save_keys_processed:', 'current_save_keys_total:'].filter((f) => !p.text.includes(f)),
      'INFO persistence, during a BGSAVE, lacks these fields: the persistence family (persistence.ts) registers its INFO fields',
    ).toEqual([]);
    expectContent(
      'INFO persistence\'s current_save_keys_total during the BGSAVE',
      p.total,
      String(totalWanted),
      `the keys the save writes: ${totalWanted} keys were stored when BGSAVE started. Keys written or deleted since are not in ` +
        'the snapshot (frozen-view.ts), so they are not in its total either: count the frozen view\'s keys, not the live keyspace\'s',
    );
    const processed = Number(p.processed);
    expect(
      Number.isInteger(processed) && processed >= processedBefore && processed <= totalWanted,
      `current_save_keys_processed:${p.processed} during the save: the keys written so far, between the last reading (${processedBefore}) ` +
        `and the total (${totalWanted}); RdbEncoder counts them (entriesWritten)`,
    ).toBe(true);
    const percent = Number(p.perc);
    expect(
      /^\d+\.\d\d$/.test(p.perc) && Math.abs(percent - (processed / totalWanted) * 100) <= 0.006,
      `current_fork_perc:${p.perc} with ${processed} of ${totalWanted} keys written: processed / total * 100, ` +
        'with two decimals as Redis prints it (%.2f: "37.50", "0.00")',
    ).toBe(true);
    return processed;
  }

  it('are 0.00, 0 and 0 when no save runs, right after INFO persistence\'s loading line', async () => {
    const p = await progress();
    expectIdle(
      p,
      'with no save running',
      'three lines in this order, "current_fork_perc:0.00" with two decimals, the counts 0 (Redis prints them whether a save runs or not); ' +
        'the persistence family (persistence.ts) registers its INFO fields: put them first, before rdb_changes_since_last_save',
    );
    expect(p.text.indexOf('current_save_keys_total:') < p.text.indexOf('rdb_changes_since_last_save:'), 'Redis prints them before rdb_changes_since_last_save').toBe(true);
  });

  it('follow a BGSAVE: the total is the frozen view\'s, processed climbs towards it, and all go back to 0', async () => {
    await fill();
    // One write: the save starts, then the keyspace changes at once, before any reading.
    await c.expectReply(
      command('BGSAVE') + command('SET', 'new:1', 'x') + command('SET', 'new:2', 'x') + command('DEL', 'key:0'),
      '+Background saving started\r\n+OK\r\n+OK\r\n:1\r\n',
    );
    let processed = 0;
    let sawProgress = false;
    for (let round = 0; ; round++) {
      await c.request(command('SET', `during:${round}`, 'x')); // the live keyspace keeps growing
      const p = await progress();
      if (p.inProgress !== '1') break;
      processed = checkRunning(p, KEYS, processed);
      if (processed > 0) sawProgress = true;
    }
    expect(sawProgress, 'current_save_keys_processed stayed 0 for the whole save: count the keys as the slices are written').toBe(true);
    const after = await progress();
    expect(after.text).toContain('rdb_last_bgsave_status:ok');
    expectIdle(
      after,
      'once the BGSAVE is over',
      'the save is over: the three fields go back to 0, as Redis resets them when its child exits (resetChildState). ' +
        'Read them from the running save (Snapshots.running), which is null once it ended, rather than keeping copies',
    );
  });

  it('count again for the next BGSAVE, from the keys it starts with', async () => {
    await fill();
    await c.expectReply(command('BGSAVE'), '+Background saving started\r\n');
    while ((await progress()).inProgress === '1');
    await c.expectReply(command('SET', 'extra:1', 'x') + command('SET', 'extra:2', 'x'), '+OK\r\n+OK\r\n');
    // BGSAVE and INFO in one write: the reading is taken while the second save runs.
    c.send(command('BGSAVE') + command('INFO', 'persistence'));
    const [reply, info] = (await c.readReplies(2)).values;
    expect(reply).toEqual({ type: 'simple', value: 'Background saving started' });
    const p = parse(infoText(info));
    expect(p.inProgress, 'INFO sent with BGSAVE, in the same write, finds the save running').toBe('1');
    checkRunning(p, KEYS + 2, 0);
    while ((await progress()).inProgress === '1');
  });
});
