// One connection of the load generator: requests go out in batches, each stamped with the
// time it started, and each reply that comes back is timed from its request's stamp (the
// replies of a connection come in the order of its requests). Which stamp, when it left or
// when it was due, is the loop's choice (load.ts). Replies are read with lib/'s
// ReplyParser, and only counted: the generator keeps no reply, so it never grows with the
// run.
import net from 'node:net';
import { ReplyParser } from '../lib/resp-reply-parser.ts';
import type { Histogram } from './histogram.ts';
import { fillBatch } from './workload.ts';

export interface Target {
  host: string;
  port: number;
}

/** One connection: requests go out in batches, and each reply is timed from its request's start. */
export class LoadConnection {
  private readonly parser = new ReplyParser();
  /** When each request in flight started (ms, performance.now()), oldest first. */
  private startTimes: number[] = [];
  private oldest = 0;
  private failure: Error | null = null;
  private idleWaiters: Array<(error?: Error) => void> = [];
  /** Where latencies go; null: replies are counted but not timed (warm-up, filling). */
  latency: Histogram | null = null;
  replies = 0;
  errors = 0;
  firstError?: string;
  /** Called once per read, after its replies are counted: when they arrived, and how many. */
  onReplies: (now: number, answered: number) => void = () => {};
  /** Called if the connection fails (closed, reset, not RESP). */
  onFailure: (error: Error) => void = () => {};

  private constructor(private readonly socket: net.Socket, private readonly target: Target) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(new Error(`connection to ${describe(target)} failed: ${err.message}`)));
    socket.on('close', () => this.fail(new Error(`${describe(target)} closed the connection`)));
  }

  static connect(target: Target): Promise<LoadConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: target.host, port: target.port, noDelay: true }, () => {
        socket.off('error', onError);
        resolve(new LoadConnection(socket, target));
      });
      const onError = (err: Error) => reject(new Error(`cannot connect to ${describe(target)}: ${err.message}`));
      socket.once('error', onError);
    });
  }

  get inFlight(): number {
    return this.startTimes.length - this.oldest;
  }

  /**
   * Sends `count` requests (one Buffer) in one write. The k-th started at
   * `firstStart + k * spacing` ms: all at once in a closed loop, on the schedule in an open one.
   */
  send(batch: Buffer, count: number, firstStart: number, spacing = 0): void {
    for (let k = 0; k < count; k++) this.startTimes.push(firstStart + k * spacing);
    this.socket.write(batch);
  }

  /** Resolves when no request is in flight; rejects if the connection fails first. */
  whenIdle(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push((error) => (error ? reject(error) : resolve())));
  }

  close(): void {
    this.failure ??= new Error('closed');
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    const now = performance.now();
    const repliesBefore = this.replies;
    this.parser.feed(chunk);
    try {
      for (let reply = this.parser.next(); reply !== undefined; reply = this.parser.next()) {
        const started = this.startTimes[this.oldest++];
        if (started === undefined) throw new Error(`${describe(this.target)} sent a reply to no request`);
        this.replies++;
        if (reply.type === 'error') {
          this.errors++;
          this.firstError ??= reply.message;
        }
        this.latency?.record((now - started) * 1e6);
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      this.socket.destroy();
      return;
    }
    this.forgetAnswered();
    this.onReplies(now, this.replies - repliesBefore);
    if (this.inFlight === 0) this.wakeIdleWaiters();
  }

  /** Drops the start times of answered requests, now and then (not on every reply). */
  private forgetAnswered(): void {
    if (this.oldest === this.startTimes.length) {
      this.startTimes.length = 0;
      this.oldest = 0;
    } else if (this.oldest > 65_536) {
      this.startTimes = this.startTimes.slice(this.oldest);
      this.oldest = 0;
    }
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.onFailure(error);
    this.wakeIdleWaiters(error);
  }

  private wakeIdleWaiters(error?: Error): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake(error);
  }
}

const describe = (target: Target) => `${target.host}:${target.port}`;

export async function connectAll(target: Target, clients: number): Promise<LoadConnection[]> {
  const connections: LoadConnection[] = [];
  try {
    for (let i = 0; i < clients; i++) connections.push(await LoadConnection.connect(target));
  } catch (err) {
    for (const c of connections) c.close();
    throw err;
  }
  return connections;
}

/** SETs every key of the keyspace, so that GETs find them; pipelined, 1,000 to a batch. */
export async function fillKeyspace(connection: LoadConnection, keys: number, valueSize: number, expireSeconds?: number): Promise<void> {
  const perBatch = 1000;
  for (let first = 0; first < keys; first += perBatch * 20) {
    for (let start = first; start < Math.min(keys, first + perBatch * 20); start += perBatch) {
      const count = Math.min(perBatch, keys - start);
      connection.send(fillBatch(start, count, valueSize, expireSeconds), count, performance.now());
    }
    await connection.whenIdle();
  }
  if (connection.errors > 0) throw new Error(`filling the keyspace: the server answered -${connection.firstError}`);
}
