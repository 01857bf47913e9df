// 05: propagation (Redis's alsoPropagate and propagatePendingCommands). Every change to the
// dataset reaches each target as the command that makes it: the AOF here, and from step 08
// every replica too. There is one path, so the AOF and a replica can never disagree.
//
// A command (or an EXEC with everything it queued) is one execution unit. What a unit
// changes is collected while it runs and handed to the targets when it ends: as it is when
// it is one command, wrapped in MULTI ... EXEC when it is several (a transaction's writes,
// or a lazily expired key's DEL before the SET that found it), so a reader of the stream
// applies all of the unit or none of it. A change made outside any unit (the active expiry
// cycle's DEL) goes out at once, on its own.

/** Somewhere changes go: the AOF writer, a replica link. */
export interface PropagationTarget {
  /** One command that changed the dataset, in the order the changes happened. */
  feed(args: readonly string[]): void;
}

export class Propagation {
  private readonly unit: Array<readonly string[]> = [];
  private inUnit = false;

  constructor(private readonly targets: readonly PropagationTarget[]) {}

  /** A change: it goes out when the running unit ends, or now if none is running. */
  propagate(args: readonly string[]): void {
    if (this.inUnit) this.unit.push(args);
    else this.feed(args);
  }

  /** A command starts running: what it changes is held until endUnit(). */
  beginUnit(): void {
    this.inUnit = true;
  }

  /** The command ended: its changes go to every target, as one transaction if several. */
  endUnit(): void {
    this.inUnit = false;
    if (this.unit.length === 0) return;
    const atomic = this.unit.length > 1;
    if (atomic) this.feed(['MULTI']);
    for (const args of this.unit) this.feed(args);
    if (atomic) this.feed(['EXEC']);
    this.unit.length = 0;
  }

  private feed(args: readonly string[]): void {
    for (const target of this.targets) target.feed(args);
  }
}
