// A client that speaks raw bytes, as nc does: write exactly these bytes, read exactly
// what came back. Replies are split with lib/resp-reply-parser.ts's ReplyParser, so a test can wait
// for "three replies" without guessing at timing.
import net from 'node:net';
import type { RespValue } from '../../lib/resp.ts';
import { encodeCommand } from '../../lib/resp-reply.ts';
import { ReplyParser } from '../../lib/resp-reply-parser.ts';
import { ReplyMismatchError, showBytes, thrownBy } from './bytes.ts';

const DEFAULT_TIMEOUT_MS = 5000;

export class RawClient {
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {}); // a reset shows up as 'close', which tests observe
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  send(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /**
   * Stops reading from the socket, as a client that never reads its replies (a slow
   * subscriber): what the server sends piles up in the kernel's buffers, then in the
   * server's. resumeReading() undoes it.
   */
  stopReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Half-close: tell the server we are done sending (Ctrl-D in nc). */
  endWriting(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resets the connection (RST instead of FIN), as a crashed client would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** Waits until `count` complete replies arrived; returns their raw bytes and values. */
  async readReplies(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ bytes: Buffer; values: RespValue[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.splitReplies(count);
      if (parsed !== null) {
        this.received = this.received.subarray(parsed.bytes.length);
        return parsed;
      }
      if (this.closedFlag) throw thrownBy(this.readReplies, new Error(`connection closed after ${this.describeReceived()}; expected ${count} replies`));
      if (!(await this.waitForData(deadline))) throw thrownBy(this.readReplies, this.timedOut(`${count} replies`));
    }
  }

  /** Sends bytes and reads `count` replies (one by default); a failure says what was sent. */
  async request(bytes: Buffer | string, count = 1): Promise<Buffer> {
    this.send(bytes);
    try {
      return (await this.readReplies(count)).bytes;
    } catch (err) {
      throw thrownBy(this.request, new Error(`sent ${showBytes(bytes)}: ${(err as Error).message}`));
    }
  }

  /** Sends bytes and fails with a teaching report unless the replies are exactly `expected`. */
  async expectReply(bytes: Buffer | string, expected: Buffer | string, hint?: string): Promise<void> {
    const want = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
    const count = countReplies(want);
    this.send(bytes);
    let got: Buffer;
    try {
      got = (await this.readReplies(count)).bytes;
    } catch (err) {
      throw thrownBy(this.expectReply, new ReplyMismatchError(bytes, want, this.takeAll(), `${(err as Error).message}${hint ? `. ${hint}` : ''}`));
    }
    if (!got.equals(want)) throw thrownBy(this.expectReply, new ReplyMismatchError(bytes, want, got, hint));
  }

  /** Waits until exactly `length` bytes arrived (an echo server has no reply framing). */
  async readBytes(length: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < length) {
      if (this.closedFlag) throw thrownBy(this.readBytes, new Error(`connection closed after ${this.describeReceived()}; expected ${length} bytes`));
      if (!(await this.waitForData(deadline))) throw thrownBy(this.readBytes, this.timedOut(`${length} bytes`));
    }
    const out = this.received.subarray(0, length);
    this.received = this.received.subarray(length);
    return out;
  }

  /** Everything until the server closes the connection. */
  async readUntilClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag) {
      if (!(await this.waitForData(deadline))) throw thrownBy(this.readUntilClose, this.timedOut('the server to close the connection'));
    }
    return this.takeAll();
  }

  takeAll(): Buffer {
    const out = this.received;
    this.received = Buffer.alloc(0);
    return out;
  }

  private splitReplies(count: number): { bytes: Buffer; values: RespValue[] } | null {
    const parser = new ReplyParser();
    parser.feed(this.received);
    const values: RespValue[] = [];
    while (values.length < count) {
      const value = parser.next();
      if (value === undefined) return null;
      values.push(value);
    }
    return { bytes: this.received.subarray(0, this.received.length - parser.bufferedBytes), values };
  }

  private describeReceived(): string {
    return `${this.received.length} bytes (${showBytes(this.received)})`;
  }

  /**
   * Resolves true when more bytes arrive (or the connection closes), false at the deadline.
   * The reading methods throw the timeout themselves, so that its stack leads to the test.
   */
  private waitForData(deadline: number): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, remaining);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  private timedOut(what: string): Error {
    return new Error(`timed out waiting for ${what}; got ${this.describeReceived()}`);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** How many complete RESP values `bytes` holds. */
export function countReplies(bytes: Buffer): number {
  const parser = new ReplyParser();
  parser.feed(bytes);
  let n = 0;
  while (parser.next() !== undefined) n++;
  return n;
}

/** A command as a client library sends it: an array of bulk strings. */
export function command(...args: string[]): string {
  return encodeCommand(args).toString('latin1');
}
