// What a program prints, as lines that arrive over time: a terminal's shell commands, a
// server's log, an nc session, a subscriber. Lines are mapped to the doc's view (ports,
// the workshop folder) as they complete; readers wait for the next line, bounded.
import { StringDecoder } from 'node:string_decoder';

export class OutputStream {
  private lines: string[] = [];
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private closed = false;
  private waiters: Array<() => void> = [];
  /** Where completed lines go instead, once the stream is redirected. */
  private target: OutputStream | null = null;

  constructor(private readonly toDoc: (line: string) => string = (l) => l) {}

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const pieces = (this.partial + text).split('\n');
    this.partial = pieces.pop()!;
    if (pieces.length > 0) this.add(pieces.map(this.toDoc));
  }

  /** From now on, lines go to `other` (those not taken yet too): a server's log, once it started, goes to its terminal. */
  redirect(other: OutputStream): void {
    other.add(this.lines.splice(0));
    this.target = other;
  }

  private add(lines: string[]): void {
    if (this.target !== null) return this.target.add(lines);
    this.lines.push(...lines);
    this.wake();
  }

  /** No more output: a last line without a newline counts as a line. */
  close(): void {
    if (this.closed) return;
    this.partial += this.decoder.end();
    if (this.partial !== '') this.add([this.toDoc(this.partial)]);
    this.partial = '';
    this.closed = true;
    this.wake();
  }

  /** The next line; waits up to `waitMs` for it. Undefined when the stream ended or the wait ran out. */
  async next(waitMs: number): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    while (this.lines.length === 0 && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
    return this.lines.shift();
  }

  /** Resolves once `predicate` holds for a line that arrived (returns its index), or the stream ends (-1). */
  async waitFor(predicate: (line: string) => boolean, waitMs: number): Promise<number> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const at = this.lines.findIndex(predicate);
      if (at >= 0) return at;
      if (this.closed || Date.now() >= deadline) return -1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now());
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Takes the first `count` lines (or all that arrived). */
  take(count = Infinity): string[] {
    return this.lines.splice(0, count);
  }

  /** What arrived and was not taken yet, including a line still being written. */
  pending(): string[] {
    return this.partial === '' ? [...this.lines] : [...this.lines, this.toDoc(this.partial)];
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
