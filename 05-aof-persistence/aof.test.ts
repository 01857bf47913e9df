// The AOF on its own: what the writer does at each flush under each fsync policy, how it
// survives a failing disk, and how the loader tells a crash from damage.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { OK, array, error, type RespValue } from '../lib/resp.ts';
import { encodeCommand } from '../lib/resp-reply.ts';
import { AofLoadError, loadAof } from './aof-load.ts';
import { AofWriter, nodeFileIo, type FileIo } from './aof.ts';
import { Propagation, TARGETS } from './propagate.ts';

const cmd = (...args: string[]) => encodeCommand(args).toString('latin1');
const SELECT0 = cmd('SELECT', '0');

let dir: string;
let lines: string[];
let log: Logger;
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'aof-unit-'));
  lines = [];
  log = createLogger('notice', (line) => lines.push(line));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The real file operations, counted; `failWrites` makes the disk refuse writes. */
function recordingIo() {
  const calls: string[] = [];
  const io = {
    calls,
    failWrites: null as null | 'error' | 'short',
    failFsync: false,
    write(fd: number, bytes: Buffer) {
      calls.push(`write ${bytes.length}`);
      if (io.failWrites === 'error') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      if (io.failWrites === 'short') {
        io.failWrites = 'error'; // half goes out, then the disk is full
        return nodeFileIo.write(fd, bytes.subarray(0, Math.floor(bytes.length / 2)));
      }
      return nodeFileIo.write(fd, bytes);
    },
    fdatasync(fd: number) {
      calls.push('fdatasync');
      if (io.failFsync) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      nodeFileIo.fdatasync(fd);
    },
    fdatasyncInBackground(fd: number, done: (err: Error | null) => void) {
      calls.push('background fdatasync');
      if (io.failFsync) setImmediate(() => done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
      else nodeFileIo.fdatasyncInBackground(fd, done);
    },
    ftruncate(fd: number, length: number) {
      calls.push(`ftruncate ${length}`);
      nodeFileIo.ftruncate(fd, length);
    },
  } satisfies FileIo & Record<string, unknown>;
  return io;
}

/** A writer fed as the server feeds it: through propagation, which encodes and SELECTs. */
function openWriter(fsync: 'always' | 'everysec' | 'no', io: FileIo, clock = new FakeClock()) {
  const fatal: string[] = [];
  const path = join(dir, 'appendonly.aof');
  const writer = new AofWriter({ path, fsync, clock, log, io, onFatal: (m) => fatal.push(m) });
  const propagation = new Propagation();
  propagation.addTarget(writer, TARGETS.AOF);
  // Each command on its own, handed to the writer at once (the server does it once per turn).
  const feed = (args: string[]) => {
    propagation.propagate(args);
    propagation.flush();
  };
  return { writer, feed, path, clock, fatal, contents: () => fs.readFileSync(path, 'latin1') };
}

describe('AofWriter', () => {
  it('starts with SELECT 0 and writes a whole batch with one write call', async () => {
    const io = recordingIo();
    const { writer, feed, contents } = openWriter('no', io);
    feed(['SET', 'k', 'v']);
    feed(['INCR', 'n']);
    expect(contents()).toBe('');
    expect(writer.flush()).toBe(true);
    expect(io.calls).toEqual([`write ${SELECT0.length + cmd('SET', 'k', 'v').length + cmd('INCR', 'n').length}`]);
    expect(contents()).toBe(SELECT0 + cmd('SET', 'k', 'v') + cmd('INCR', 'n'));
    feed(['DEL', 'k']);
    writer.flush();
    expect(contents()).toBe(SELECT0 + cmd('SET', 'k', 'v') + cmd('INCR', 'n') + cmd('DEL', 'k'));
    await writer.close();
  });

  it('keeps binary arguments byte for byte', async () => {
    const { writer, feed, contents } = openWriter('no', recordingIo());
    const value = '\x00\r\n\xff';
    feed(['SET', 'k\r\n', value]);
    writer.flush();
    expect(contents()).toBe(SELECT0 + `*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$4\r\n${value}\r\n`);
    await writer.close();
  });

  it('appendfsync always: fdatasync after every batch write, before flush() returns', async () => {
    const io = recordingIo();
    const { writer, feed } = openWriter('always', io);
    feed(['SET', 'a', '1']);
    writer.flush();
    feed(['SET', 'b', '2']);
    feed(['SET', 'c', '3']);
    writer.flush();
    expect(io.calls.map((c) => c.split(' ')[0])).toEqual(['write', 'fdatasync', 'write', 'fdatasync']);
    expect(writer.flush()).toBe(true); // nothing new: no write, no fsync
    expect(io.calls).toHaveLength(4);
    await writer.close();
  });

  it('appendfsync everysec: no fsync at the flush; one in the background once a second passes', async () => {
    const io = recordingIo();
    const { writer, feed, clock } = openWriter('everysec', io);
    feed(['SET', 'a', '1']);
    writer.flush();
    expect(io.calls).toEqual([expect.stringMatching(/^write/)]);
    clock.advance(999);
    expect(writer.needsFlush).toBe(false);
    writer.flush();
    expect(io.calls).toHaveLength(1);
    clock.advance(1);
    expect(writer.needsFlush).toBe(true); // the server's cron sees this and asks for a flush
    writer.flush();
    expect(io.calls.at(-1)).toBe('background fdatasync');
    expect(writer.info()).toContainEqual(['aof_pending_bio_fsync', 1]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the worker thread finishes
    expect(writer.info()).toContainEqual(['aof_pending_bio_fsync', 0]);
    clock.advance(5000); // nothing new was written: nothing to sync
    expect(writer.needsFlush).toBe(false);
    writer.flush();
    expect(io.calls.filter((c) => c === 'background fdatasync')).toHaveLength(1);
    await writer.close();
  });

  it('appendfsync everysec measures the second on the monotonic clock, not the wall clock', async () => {
    const io = recordingIo();
    const { writer, feed, clock } = openWriter('everysec', io);
    clock.setWallClock(Date.UTC(2040, 0, 1)); // NTP steps the wall clock ten years ahead
    feed(['SET', 'a', '1']);
    writer.flush();
    expect(writer.needsFlush).toBe(false);
    writer.flush();
    expect(io.calls).not.toContain('background fdatasync');
    await writer.close();
  });

  it('appendfsync no: never fsyncs while running (the OS decides), only at close', async () => {
    const io = recordingIo();
    const { writer, feed, clock } = openWriter('no', io);
    feed(['SET', 'a', '1']);
    writer.flush();
    clock.advance(10_000);
    expect(writer.needsFlush).toBe(false);
    writer.flush();
    expect(io.calls.filter((c) => c.includes('fdatasync'))).toEqual([]);
    await writer.close();
    expect(io.calls.at(-1)).toBe('fdatasync');
  });

  it('writes nothing by itself: what is fed waits for flush(), and says it needs one', async () => {
    const { writer, feed, contents } = openWriter('no', recordingIo());
    feed(['DEL', 'expired']); // as the active expiry cycle does
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(contents()).toBe('');
    expect(writer.needsFlush).toBe(true);
    writer.flush();
    expect(contents()).toBe(SELECT0 + cmd('DEL', 'expired'));
    expect(writer.needsFlush).toBe(false);
    await writer.close();
  });

  it('on a write error: reports it, keeps the bytes, asks to be flushed again, and recovers', async () => {
    const io = recordingIo();
    const { writer, feed, contents, fatal } = openWriter('everysec', io);
    io.failWrites = 'error';
    feed(['SET', 'a', '1']);
    expect(writer.flush()).toBe(true); // everysec survives: the batch is in memory and in the buffer
    expect(writer.diskError).toBe('No space left on device');
    expect(lines).toContainEqual(expect.stringMatching(/# Error writing to the AOF file: No space left on device$/));
    expect(writer.info()).toContainEqual(['aof_buffer_length', SELECT0.length + cmd('SET', 'a', '1').length]);
    expect(writer.needsFlush).toBe(true); // the cron retries through beforeSleep
    writer.flush(); // the retry fails too, and is not logged again
    expect(lines.filter((l) => l.includes('Error writing'))).toHaveLength(1);
    io.failWrites = null;
    writer.flush();
    expect(writer.diskError).toBeNull();
    expect(lines.at(-1)).toMatch(/AOF write error looks solved, Redis can write again\.$/);
    expect(contents()).toBe(SELECT0 + cmd('SET', 'a', '1'));
    expect(fatal).toEqual([]);
    await writer.close();
  });

  it('everysec: a failed background fsync refuses writes until a later one succeeds', async () => {
    const io = recordingIo();
    const { writer, feed, clock } = openWriter('everysec', io);
    io.failFsync = true;
    feed(['SET', 'a', '1']);
    writer.flush();
    clock.advance(1000);
    writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.diskError).toBe('I/o error');
    expect(lines.at(-1)).toMatch(/# Fail to fsync the AOF file: I\/o error$/);
    io.failFsync = false;
    feed(['SET', 'b', '2']); // what a replica or the expiry cycle may still append
    writer.flush();
    clock.advance(1000);
    writer.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writer.diskError).toBeNull();
    await writer.close();
  });

  it('cuts a short write off the file, so the next start does not see half a command', async () => {
    const io = recordingIo();
    const { writer, feed, contents } = openWriter('no', io);
    feed(['SET', 'a', '1']);
    writer.flush();
    const before = contents();
    io.failWrites = 'short';
    feed(['SET', 'b', '2']);
    writer.flush();
    expect(io.calls).toContain(`ftruncate ${before.length}`);
    expect(contents()).toBe(before);
    expect(writer.diskError).toBe('No space left on device');
    io.failWrites = null;
    writer.flush();
    expect(contents()).toBe(before + cmd('SET', 'b', '2'));
    await writer.close();
  });

  it('appendfsync always cannot keep its promise after a failed write: it asks to stop, and confirms nothing more', async () => {
    const io = recordingIo();
    const { writer, feed, fatal } = openWriter('always', io);
    io.failWrites = 'error';
    feed(['SET', 'a', '1']);
    expect(writer.flush()).toBe(false);
    expect(fatal).toEqual(["Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."]);
    io.failWrites = null; // the disk is back, but the promise stays broken
    feed(['SET', 'b', '2']);
    expect(writer.flush()).toBe(false);
    expect(fatal).toHaveLength(1);
    await writer.close();
  });

  it('appendfsync always cannot keep its promise after a failed fsync either', async () => {
    const io = recordingIo();
    const { writer, feed, fatal } = openWriter('always', io);
    io.failFsync = true;
    feed(['SET', 'b', '2']);
    expect(writer.flush()).toBe(false);
    expect(fatal).toEqual(["Can't persist AOF for fsync error when the AOF fsync policy is 'always': I/o error. Exiting..."]);
    io.failFsync = false;
    expect(writer.flush()).toBe(false);
    await writer.close();
  });
});

describe('loadAof', () => {
  /** A replayer that records what it ran; FOO is not a command. */
  function recorder() {
    const ran: string[][] = [];
    return {
      ran,
      run(args: string[]): RespValue {
        ran.push(args);
        return args[0] === 'INCR' && args[1] === 'text' ? error('ERR value is not an integer or out of range') : OK;
      },
      isCommand: (name: string) => name.toUpperCase() !== 'FOO',
      truncate: (length: number) => fs.truncateSync(join(dir, 'appendonly.aof'), length),
    };
  }
  const write = (text: string) => {
    const path = join(dir, 'appendonly.aof');
    fs.writeFileSync(path, Buffer.from(text, 'latin1'));
    return path;
  };
  const file = SELECT0 + cmd('SET', 'a', '1') + cmd('SET', 'b', '\r\n') + cmd('INCR', 'a');

  it('returns null when there is no file yet', () => {
    expect(loadAof(join(dir, 'none.aof'), recorder(), log)).toBeNull();
  });

  it('replays every command in order and reports the count', () => {
    const replayer = recorder();
    const report = loadAof(write(file), replayer, log);
    expect(replayer.ran).toEqual([['SELECT', '0'], ['SET', 'a', '1'], ['SET', 'b', '\r\n'], ['INCR', 'a']]);
    expect(report).toEqual({ commands: 4, bytes: file.length, truncatedBytes: 0 });
  });

  it('drops a half-written last command, with a warning, and truncates the file before it', () => {
    for (let cut = 1; cut < cmd('INCR', 'a').length; cut++) {
      const whole = SELECT0 + cmd('SET', 'a', '1') + cmd('SET', 'b', '\r\n');
      const path = write(whole + cmd('INCR', 'a').slice(0, cut));
      lines = [];
      const replayer = recorder();
      const report = loadAof(path, replayer, log);
      expect(replayer.ran).toHaveLength(3);
      expect(report).toEqual({ commands: 3, bytes: whole.length, truncatedBytes: cut });
      expect(fs.readFileSync(path, 'latin1')).toBe(whole);
      expect(lines.map((l) => l.replace(/^.*? # /, ''))).toEqual([
        '!!! Warning: short read while loading the AOF file appendonly.aof!!!',
        `!!! Truncating the AOF appendonly.aof at offset ${whole.length} !!!`,
        'AOF appendonly.aof loaded anyway because aof-load-truncated is enabled',
      ]);
    }
  });

  it('refuses garbage in the middle, naming its byte offset, and leaves the file alone', () => {
    const offset = SELECT0.length + cmd('SET', 'a', '1').length;
    const damaged = SELECT0 + cmd('SET', 'a', '1') + 'garbage\r\n' + cmd('SET', 'b', '2');
    const path = write(damaged);
    expect(() => loadAof(path, recorder(), log)).toThrow(
      new RegExp(`^Bad file format reading the append only file appendonly.aof at offset ${offset}: expected '\\*', got 'g'`),
    );
    expect(fs.readFileSync(path, 'latin1')).toBe(damaged);
  });

  it('refuses damage to a frame, even where the parser alone would read on', () => {
    // A bulk length of 2 where the value has 1 byte: the frame after it no longer lines up.
    const damaged = SELECT0 + '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\n1\r\n' + cmd('SET', 'b', '2');
    expect(() => loadAof(write(damaged), recorder(), log)).toThrow(
      new RegExp(`at offset ${SELECT0.length}: `),
    );
    const badHeader = SELECT0 + '*3\r\n$3\r\nSET\r\nxx' + cmd('SET', 'b', '2');
    expect(() => loadAof(write(badHeader), recorder(), log)).toThrow(
      new RegExp(`^Bad file format .* at offset ${SELECT0.length}: expected '\\$', got 'x'`),
    );
  });

  it('refuses a tail that is not the start of a command', () => {
    expect(() => loadAof(write(SELECT0 + 'junk'), recorder(), log)).toThrow(
      new RegExp(`at offset ${SELECT0.length}: expected '\\*', got 'j'`),
    );
  });

  it('stops at an unknown command, naming it and its offset', () => {
    expect(() => loadAof(write(SELECT0 + cmd('FOO', 'x') + cmd('SET', 'a', '1')), recorder(), log)).toThrow(
      new AofLoadError(`Unknown command 'FOO' reading the append only file appendonly.aof at offset ${SELECT0.length}`),
    );
  });

  it('skips annotation lines', () => {
    const replayer = recorder();
    loadAof(write('#TS:1700000000\r\n' + SELECT0 + '#TS:1700000001\r\n' + cmd('SET', 'a', '1')), replayer, log);
    expect(replayer.ran).toEqual([['SELECT', '0'], ['SET', 'a', '1']]);
  });

  describe('transactions: a MULTI ... EXEC block loads whole or not at all', () => {
    const block = cmd('MULTI') + cmd('SET', 'a', '2') + cmd('INCR', 'a') + cmd('EXEC');
    const before = SELECT0 + cmd('SET', 'a', '1');

    it('replays a block: MULTI, its commands, EXEC', () => {
      const replayer = recorder();
      const report = loadAof(write(before + block + cmd('SET', 'z', '9')), replayer, log);
      expect(replayer.ran.map((args) => args[0])).toEqual(['SELECT', 'SET', 'MULTI', 'SET', 'INCR', 'EXEC', 'SET']);
      expect(report).toEqual({ commands: 7, bytes: (before + block + cmd('SET', 'z', '9')).length, truncatedBytes: 0 });
    });

    it('drops a block cut anywhere before the end of its EXEC, whole, and truncates before its MULTI', () => {
      for (let cut = 1; cut < block.length; cut++) {
        const path = write(before + block.slice(0, cut));
        lines = [];
        const replayer = recorder();
        const report = loadAof(path, replayer, log);
        expect(replayer.ran.map((args) => args[0]), `cut at ${cut}`).toEqual(['SELECT', 'SET', ...(cut >= cmd('MULTI').length ? ['MULTI'] : [])].concat(
          cut >= cmd('MULTI').length + cmd('SET', 'a', '2').length ? ['SET'] : [],
          cut >= cmd('MULTI').length + cmd('SET', 'a', '2').length + cmd('INCR', 'a').length ? ['INCR'] : [],
        ));
        expect(report, `cut at ${cut}`).toEqual({ commands: 2, bytes: before.length, truncatedBytes: cut }); // SELECT and SET: the block does not count
        expect(fs.readFileSync(path, 'latin1')).toBe(before);
        const wholeCommandsInBlock = replayer.ran.length > 2;
        expect(lines.some((l) => l.endsWith('Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof')), `cut at ${cut}`).toBe(wholeCommandsInBlock);
        expect(lines.at(-1)).toMatch(/AOF appendonly.aof loaded anyway because aof-load-truncated is enabled$/);
      }
    });

    it('refuses MULTI inside a transaction, naming both offsets', () => {
      const damaged = before + cmd('MULTI') + cmd('SET', 'a', '2') + cmd('MULTI') + cmd('EXEC');
      const second = before.length + cmd('MULTI').length + cmd('SET', 'a', '2').length;
      expect(() => loadAof(write(damaged), recorder(), log)).toThrow(
        new RegExp(`at offset ${second}: MULTI inside the transaction that starts at offset ${before.length}`),
      );
    });

    it('refuses EXEC without MULTI', () => {
      expect(() => loadAof(write(before + cmd('EXEC')), recorder(), log)).toThrow(new RegExp(`at offset ${before.length}: EXEC without MULTI`));
    });

    it('stops when a command inside a block fails on replay (its error is in EXEC\'s reply)', () => {
      const replayer = { ...recorder(), run: (args: string[]) => (args[0] === 'EXEC' ? array([OK, error('ERR value is not an integer or out of range')]) : OK) };
      expect(() => loadAof(write(before + block), replayer, log)).toThrow(
        /^Command 'EXEC' at offset \d+ of the append only file appendonly.aof failed on replay: ERR value is not an integer/,
      );
    });
  });

  it('stops at a command that fails on replay: the file does not describe this dataset', () => {
    expect(() => loadAof(write(SELECT0 + cmd('INCR', 'text') + cmd('SET', 'a', '1')), recorder(), log)).toThrow(
      new AofLoadError(`Command 'INCR' at offset ${SELECT0.length} of the append only file appendonly.aof failed on replay: ERR value is not an integer or out of range`),
    );
  });
});
