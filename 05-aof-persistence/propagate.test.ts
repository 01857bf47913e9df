// Propagation on its own: each unit encoded once, a turn's units handed to every target as
// one buffer, each change to the targets it names, targets that come and go, MULTI ... EXEC
// around a unit of several changes as Redis 7.0's propagatePendingCommands writes it. The
// targets here record what they are fed; the AOF's own tests (aof.test.ts, redis.test.ts)
// hold the file to Redis's bytes.
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../lib/resp-reply.ts';
import { Propagation, TARGETS, type PropagationTarget } from './propagate.ts';

const cmd = (...args: string[]) => encodeCommand(args).toString('latin1');

/** A target that keeps every Buffer it is fed, as fed. */
class Recorder implements PropagationTarget {
  readonly fed: Buffer[] = [];
  feed(bytes: Buffer): void {
    this.fed.push(bytes);
  }
  get text(): string {
    return this.fed.map((b) => b.toString('latin1')).join('');
  }
}

function setUp() {
  const propagation = new Propagation();
  const aof = new Recorder();
  const replicas = new Recorder();
  propagation.addTarget(aof, TARGETS.AOF);
  propagation.addTarget(replicas, TARGETS.REPLICAS);
  /** One execution unit: what `run` propagates is encoded when it ends. */
  const unit = (run: () => void) => {
    propagation.beginUnit();
    run();
    propagation.endUnit();
  };
  return { propagation, aof, replicas, unit };
}

describe('Propagation', () => {
  it('encodes a change once: every target gets the very same Buffer, after the same SELECT', () => {
    const { propagation, aof, replicas, unit } = setUp();
    unit(() => propagation.propagate(['SET', 'k', 'v']));
    expect(aof.fed).toEqual([]); // not before the end of the turn
    propagation.flush();
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('SET', 'k', 'v'));
    expect(replicas.fed).toHaveLength(2);
    expect(replicas.fed[0]).toBe(aof.fed[0]); // SELECT: one constant Buffer
    expect(replicas.fed[1]).toBe(aof.fed[1]); // the command: encoded once
  });

  it('hands a turn\'s units to each target as one Buffer, in order', () => {
    const { propagation, aof, replicas, unit } = setUp();
    unit(() => propagation.propagate(['SET', 'a', '1']));
    unit(() => {
      propagation.propagate(['DEL', 'gone']);
      propagation.propagate(['SET', 'k', 'v']);
    });
    propagation.propagate(['DEL', 'c']); // outside any unit (the expiry cycle)
    expect(propagation.pendingBytes).toBeGreaterThan(0); // the cron asks for a beforeSleep
    propagation.flush();
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('SET', 'a', '1') + cmd('MULTI') + cmd('DEL', 'gone') + cmd('SET', 'k', 'v') + cmd('EXEC') + cmd('DEL', 'c'));
    expect(aof.fed).toHaveLength(2);
    expect(replicas.fed[1]).toBe(aof.fed[1]);
    expect(propagation.pendingBytes).toBe(0);
  });

  it('writes SELECT once per target, before its first bytes', () => {
    const { propagation, aof, unit } = setUp();
    unit(() => propagation.propagate(['SET', 'a', '1']));
    propagation.flush();
    unit(() => propagation.propagate(['SET', 'b', '2']));
    propagation.flush();
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('SET', 'a', '1') + cmd('SET', 'b', '2'));
  });

  it('never sends a replicas-only change to the AOF', () => {
    const { propagation, aof, replicas, unit } = setUp();
    unit(() => propagation.propagate(['PUBLISH', 'news', 'hi'], TARGETS.REPLICAS));
    propagation.flush();
    expect(aof.fed).toEqual([]);
    expect(replicas.text).toBe(cmd('SELECT', '0') + cmd('PUBLISH', 'news', 'hi'));
  });

  it('in a unit mixing both: each target gets MULTI, its own commands, EXEC, after what came before', () => {
    const { propagation, aof, replicas, unit } = setUp();
    unit(() => propagation.propagate(['SET', 'before', '0']));
    unit(() => {
      propagation.propagate(['SET', 'a', '1']);
      propagation.propagate(['PUBLISH', 'news', 'hi'], TARGETS.REPLICAS);
      propagation.propagate(['SET', 'b', '2']);
      propagation.propagate(['PUBLISH', 'news', 'bye'], TARGETS.REPLICAS);
    });
    unit(() => propagation.propagate(['SET', 'after', '3']));
    propagation.flush();
    const before = cmd('SELECT', '0') + cmd('SET', 'before', '0');
    const after = cmd('SET', 'after', '3');
    expect(replicas.text).toBe(
      before + cmd('MULTI') + cmd('SET', 'a', '1') + cmd('PUBLISH', 'news', 'hi') + cmd('SET', 'b', '2') + cmd('PUBLISH', 'news', 'bye') + cmd('EXEC') + after,
    );
    expect(aof.text).toBe(before + cmd('MULTI') + cmd('SET', 'a', '1') + cmd('SET', 'b', '2') + cmd('EXEC') + after);
    // The AOF's parts of the mixed unit are views of the replicas' Buffer: nothing was encoded twice.
    const mixed = replicas.fed[2]!;
    expect(mixed.toString('latin1')).toContain('PUBLISH');
    for (const part of aof.fed.slice(2, -1)) expect(part.buffer).toBe(mixed.buffer);
  });

  it('sends the wrapper to every target, as Redis 7.0 does, even one that takes none of the commands', () => {
    const { propagation, aof, unit } = setUp();
    unit(() => {
      propagation.propagate(['PUBLISH', 'a', '1'], TARGETS.REPLICAS);
      propagation.propagate(['PUBLISH', 'b', '2'], TARGETS.REPLICAS);
    });
    propagation.flush();
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('MULTI') + cmd('EXEC'));
  });

  it('drops a change no target takes, so it makes no transaction of the others', () => {
    const propagation = new Propagation();
    const aof = new Recorder();
    propagation.addTarget(aof, TARGETS.AOF);
    propagation.beginUnit();
    propagation.propagate(['PUBLISH', 'news', 'hi'], TARGETS.REPLICAS); // no replicas: dropped
    propagation.propagate(['SET', 'k', 'v']);
    propagation.endUnit();
    propagation.flush();
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('SET', 'k', 'v'));
  });

  it('holds a unit\'s changes for whatever targets there are when it ends', () => {
    // A target that joins while a unit runs gets all of it: what the unit changed so far was
    // not encoded for anyone yet (which is why step 05's exercise 3 starts a new AOF at the
    // end of the turn, not in the middle of an EXEC).
    const propagation = new Propagation();
    const late = new Recorder();
    propagation.beginUnit();
    propagation.propagate(['SET', 'a', '1']);
    propagation.addTarget(late, TARGETS.AOF);
    propagation.propagate(['SET', 'b', '2']);
    propagation.endUnit();
    propagation.flush();
    expect(late.text).toBe(cmd('SELECT', '0') + cmd('MULTI') + cmd('SET', 'a', '1') + cmd('SET', 'b', '2') + cmd('EXEC'));
  });

  it('feeds a target added at run time from then on, and one removed no more', () => {
    const propagation = new Propagation();
    const aof = new Recorder();
    propagation.addTarget(aof, TARGETS.AOF);
    propagation.propagate(['SET', 'a', '1']);
    const replicas = new Recorder();
    propagation.addTarget(replicas, TARGETS.REPLICAS); // a replica attaches, in the same turn
    propagation.propagate(['SET', 'b', '2']);
    propagation.propagate(['PUBLISH', 'news', 'hi'], TARGETS.REPLICAS);
    propagation.removeTarget(replicas); // the last replica leaves: it had what was due to it
    expect(replicas.text).toBe(cmd('SELECT', '0') + cmd('SET', 'b', '2') + cmd('PUBLISH', 'news', 'hi'));
    propagation.propagate(['SET', 'c', '3']);
    propagation.propagate(['PUBLISH', 'news', 'bye'], TARGETS.REPLICAS);
    propagation.flush();
    expect(replicas.text).toBe(cmd('SELECT', '0') + cmd('SET', 'b', '2') + cmd('PUBLISH', 'news', 'hi'));
    expect(aof.text).toBe(cmd('SELECT', '0') + cmd('SET', 'a', '1') + cmd('SET', 'b', '2') + cmd('SET', 'c', '3'));
  });

  it('propagates nothing, and encodes nothing, while there is no target', () => {
    const propagation = new Propagation();
    propagation.beginUnit();
    propagation.propagate(['SET', 'k', 'v']);
    propagation.endUnit();
    expect(propagation.pendingBytes).toBe(0);
    const late = new Recorder();
    propagation.addTarget(late, TARGETS.ALL);
    propagation.propagate(['SET', 'x', 'y']);
    propagation.flush();
    expect(late.text).toBe(cmd('SELECT', '0') + cmd('SET', 'x', 'y'));
  });
});
