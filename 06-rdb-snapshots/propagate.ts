// 05: propagation (Redis's alsoPropagate and propagatePendingCommands). Every change to the
// dataset reaches each target as the command that makes it: the AOF here, and from step 08
// the replicas too. There is one path, so the AOF and a replica can never disagree.
//
// A command (or an EXEC with everything it queued) is one execution unit. What a unit
// changes is collected while it runs and encoded when it ends: as it is when it is one
// command, wrapped in MULTI ... EXEC when it is several (a transaction's writes, or a lazily
// expired key's DEL before the SET that found it), so a reader of the stream applies all of
// the unit or none of it. A change made outside any unit (the active expiry cycle's DEL) is
// encoded at once, on its own.
//
// Each unit is encoded into RESP once, whatever the number of targets, one unit after the
// other into one buffer, and at the end of the event-loop turn (the server's beforeSleep,
// just before the AOF is written) flush() hands that buffer to every target: the AOF and
// (from step 08) the replication stream get the very same bytes, and a replica's offset
// counts exactly those. Each change says where it goes (PUBLISH will go to replicas only,
// as in Redis), and targets come and go while the server runs (a replica attaches).
import { bulks, type RespValue } from '../lib/resp.ts';
import { ReplyWriter, encodeCommand } from '../lib/resp-reply.ts';

/** Where a change goes: a bit per kind of target (Redis's PROPAGATE_AOF, PROPAGATE_REPL). */
export const TARGETS = { AOF: 1, REPLICAS: 2, ALL: 3 } as const;
export type TargetMask = (typeof TARGETS)[keyof typeof TARGETS];

/** Somewhere changes go: the AOF writer; from step 08, the replication stream. */
export interface PropagationTarget {
  /** RESP commands, in the order the changes happened. The bytes are never written over. */
  feed(bytes: Buffer): void;
}

/** A target, the changes it takes, and whether it has been told which database they are for. */
interface Registered {
  target: PropagationTarget;
  mask: TargetMask;
  selected: boolean;
}

interface Change {
  args: readonly string[];
  targets: TargetMask;
}

/** Every target's stream starts with this, once (the server has only database 0). */
const SELECT_0 = encodeCommand(['SELECT', '0']);
const MULTI: RespValue = bulks(['MULTI']);
const EXEC: RespValue = bulks(['EXEC']);

export class Propagation {
  private readonly targets: Registered[] = [];
  /** The kinds of target there are now: a change for none of them is dropped. */
  private present = 0;
  private readonly unit: Change[] = [];
  private inUnit = false;
  /**
   * The units of this turn that go to every target, encoded one after the other: flush()
   * takes them out as one view, never written over.
   */
  private readonly encoder = new ReplyWriter(2);

  /** A target joins: it gets the changes for `mask` from now on, after a SELECT. */
  addTarget(target: PropagationTarget, mask: TargetMask): void {
    this.flush(); // what waits was made before it joined
    this.targets.push({ target, mask, selected: false });
    this.present |= mask;
  }

  /** A target leaves, with what waits for it (the AOF switched off writes it first). */
  removeTarget(target: PropagationTarget): void {
    this.flush();
    const at = this.targets.findIndex((t) => t.target === target);
    if (at >= 0) this.targets.splice(at, 1);
    this.present = this.targets.reduce((kinds, t) => kinds | t.mask, 0);
  }

  /**
   * A change, for the targets `targets` names: it is encoded when the running unit ends,
   * or now if none is running.
   */
  propagate(args: readonly string[], targets: TargetMask = TARGETS.ALL): void {
    if (this.inUnit) this.unit.push({ args, targets });
    else this.send([{ args, targets }]);
  }

  /** A command starts running: what it changes is held until endUnit(). */
  beginUnit(): void {
    this.inUnit = true;
  }

  /** The command ended: its changes are encoded, as one transaction if several. */
  endUnit(): void {
    this.inUnit = false;
    if (this.unit.length === 0) return;
    this.send(this.unit);
    this.unit.length = 0;
  }

  /** Bytes encoded this turn and not handed out yet: the cron asks for a beforeSleep then. */
  get pendingBytes(): number {
    return this.encoder.length;
  }

  /** The end of the turn: everything encoded since the last flush, to every target at once. */
  flush(): void {
    const bytes = this.encoder.take();
    if (bytes === null) return;
    for (const registered of this.targets) this.feed(registered, bytes);
  }

  /**
   * A unit's changes. A change for a kind of target there is none of is dropped first
   * (Redis's shouldPropagate): it must not turn a lone change into a transaction for the
   * others. A unit whose every change is for every target (the common case) joins the
   * turn's buffer; any other is handed out on its own, in order.
   */
  private send(unit: readonly Change[]): void {
    const present = this.present;
    if (present === 0) return;
    const changes = unit.every((c) => (c.targets & present) !== 0) ? unit : unit.filter((c) => (c.targets & present) !== 0);
    if (changes.length === 0) return;
    if (changes.every((c) => (c.targets & present) === present)) this.encode(changes);
    else this.sendApart(changes);
  }

  /** The unit into the turn's buffer: MULTI ... EXEC around it when it has several changes. */
  private encode(changes: readonly Change[]): void {
    const wrapped = changes.length > 1;
    if (wrapped) this.encoder.write(MULTI);
    for (const { args } of changes) this.encoder.write(bulks(args as string[]));
    if (wrapped) this.encoder.write(EXEC);
  }

  /**
   * A unit some target takes only part of (a transaction that also PUBLISHed, with replicas
   * and the AOF): after what waits, encoded once, and each target gets its own commands, and
   * the MULTI ... EXEC around them, as views of the same bytes. Like Redis 7.0's
   * propagatePendingCommands, the wrapper goes to every target.
   */
  private sendApart(changes: readonly Change[]): void {
    this.flush();
    const starts: number[] = []; // where each command, then EXEC, begins in the unit's bytes
    const wrapped = changes.length > 1;
    if (wrapped) this.encoder.write(MULTI);
    for (const { args } of changes) {
      starts.push(this.encoder.length);
      this.encoder.write(bulks(args as string[]));
    }
    starts.push(this.encoder.length);
    if (wrapped) this.encoder.write(EXEC);
    const bytes = this.encoder.take()!;
    for (const registered of this.targets) {
      const mine = changes.map((change) => (change.targets & registered.mask) !== 0);
      if (mine.every(Boolean)) this.feed(registered, bytes);
      else if (wrapped) this.feedPart(registered, bytes, starts, mine);
      // A lone change that is not for this target: nothing for it.
    }
  }

  /** MULTI, the commands that are for this target, EXEC: each run of them one view. */
  private feedPart(registered: Registered, bytes: Buffer, starts: readonly number[], mine: readonly boolean[]): void {
    let runStart = 0; // MULTI opens the first run
    for (let i = 0; i < mine.length; i++) {
      if (mine[i]) continue;
      if (starts[i]! > runStart) this.feed(registered, bytes.subarray(runStart, starts[i]));
      runStart = starts[i + 1]!;
    }
    this.feed(registered, bytes.subarray(runStart)); // the last run, with EXEC
  }

  private feed(registered: Registered, bytes: Buffer): void {
    if (!registered.selected) {
      registered.target.feed(SELECT_0);
      registered.selected = true;
    }
    registered.target.feed(bytes);
  }
}
