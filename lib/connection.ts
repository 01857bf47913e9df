// One client of the server, as the connection loop (networking.ts) sees it: its socket, the
// parser its requests arrive through, the output waiting for the socket, and what kind of
// client it is. Redis keeps all of this in one `struct client` (server.h); a step's own
// Client extends Connection with what its commands keep per client.
//
// Output leaves in order, from two places: the ReplyWriter, where a command's reply is
// encoded for this client alone, and the outbox, bytes encoded once elsewhere and shared by
// many clients (a published message; from step 08 the replication stream). When bytes join
// the outbox, whatever the ReplyWriter holds moves in first, so nothing overtakes a reply.
import type net from 'node:net';
import type { ProtocolVersion } from './resp.ts';
import { RequestParser } from './resp-request.ts';
import { ReplyWriter } from './resp-reply.ts';

/**
 * What a connection is to the server (Redis's CLIENT_SLAVE and CLIENT_MASTER flags, and its
 * fake client):
 * - normal: a client that sent requests and reads replies;
 * - replica: a normal client whose PSYNC was accepted: its output is the replication stream;
 * - master: on a replica, the link to its master (a socket the replica opened itself): its
 *   requests are applied and answered with nothing, and its exact bytes are handed on;
 * - replay: no socket at all, the client that replays the AOF.
 */
export type ClientKind = 'normal' | 'replica' | 'master' | 'replay';

/**
 * How much output a client may leave unread (Redis's client-output-buffer-limit): past
 * `hardBytes` it is disconnected at once; past `softBytes` for more than `softSeconds`, too.
 * 0 means no limit.
 */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

export class Connection {
  readonly parser = new RequestParser();
  /** Replies not yet written. It also holds the protocol version, which HELLO changes. */
  readonly reply = new ReplyWriter(2);
  /** "ip:port" of the other end, as CLIENT LIST shows it. */
  readonly peer: string;
  /** A normal client becomes a replica when its PSYNC is accepted. */
  kind: ClientKind;
  name = '';
  libName = '';
  libVersion = '';
  /** Set by QUIT and by protocol errors: the replies so far leave, then the socket closes. */
  closeAfterReply = false;
  /**
   * Set by the loop while a command of this client waits for its answer (it returned
   * BLOCKED): the requests that follow stay in the parser, and the socket is not read.
   */
  blocked = false;
  /**
   * Set by the loop while queued output stays queued (Networking.holdOutput): a replica
   * whose snapshot goes straight to its socket. The output-buffer limit still counts it.
   */
  outputHeld = false;
  /** Set by the loop while the socket's own buffer is full: it is not read until it drains. */
  waitingForDrain = false;
  /** When the client's output first went over its soft limit (monotonic ms), or -1. */
  softLimitSince = -1;
  /**
   * A master link's bytes, as they arrived, until each request's share is handed on
   * (Networking's masterBytesApplied hook); null for every other kind.
   */
  masterStream: ByteQueue | null = null;
  /** Bytes encoded elsewhere, shared, never copied per client, in order after the replies before them. */
  private outbox: Buffer[] = [];
  private outboxBytes = 0;

  constructor(
    readonly id: number,
    readonly socket: net.Socket | null,
  ) {
    this.peer = socket === null ? '' : `${socket.remoteAddress}:${socket.remotePort}`;
    this.kind = socket === null ? 'replay' : 'normal';
  }

  get protocol(): ProtocolVersion {
    return this.reply.protocol;
  }

  set protocol(version: ProtocolVersion) {
    this.reply.protocol = version;
  }

  /** Queues bytes encoded elsewhere, after every reply queued so far. */
  queueEncoded(bytes: Buffer): void {
    const before = this.reply.take();
    if (before !== null) this.outbox.push(before);
    this.outbox.push(bytes);
    this.outboxBytes += (before?.length ?? 0) + bytes.length;
  }

  /** Output not yet handed to the kernel: queued replies and what the socket still buffers. */
  get pendingOutputBytes(): number {
    return this.reply.length + this.outboxBytes + (this.socket?.writableLength ?? 0);
  }

  /** True when shared encoded bytes wait beside the reply writer's. */
  get hasEncoded(): boolean {
    return this.outbox.length > 0;
  }

  /** Everything queued, in order, for one write; the queue is then empty. */
  takeOutput(): Buffer[] {
    const out = this.outbox;
    const tail = this.reply.take();
    if (tail !== null) out.push(tail);
    this.outbox = [];
    this.outboxBytes = 0;
    return out;
  }
}

/**
 * Bytes in the order they arrived, taken from the front `n` at a time. Linear: a piece that
 * lies inside one chunk is a view of it, a piece that spans chunks is copied once, and a
 * used-up chunk costs nothing to drop however many wait behind it.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** The first chunk not used up, and where its unread bytes start. */
  private head = 0;
  private offset = 0;
  private bytes = 0;
  /** Bytes taken since the queue was made. */
  taken = 0;

  get length(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The first `n` bytes (at most what is queued), removed from the queue. */
  take(n: number): Buffer {
    n = Math.min(n, this.bytes);
    const first = this.chunks[this.head];
    if (first !== undefined && first.length - this.offset >= n) {
      const piece = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return piece;
    }
    const piece = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) {
      const chunk = this.chunks[this.head]!;
      const copied = chunk.copy(piece, filled, this.offset, Math.min(chunk.length, this.offset + n - filled));
      filled += copied;
      this.consume(copied);
    }
    return piece;
  }

  /** Moves past `n` bytes of the first chunk. */
  private consume(n: number): void {
    this.offset += n;
    this.bytes -= n;
    this.taken += n;
    if (this.offset < this.chunks[this.head]!.length) return;
    this.head++;
    this.offset = 0;
    // Drop the used-up chunks once they are half the array: each is moved at most once.
    if (this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
