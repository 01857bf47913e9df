// The load generator's engine: connections that send batches of requests and time each
// reply, driven in one of two ways.
//
//   Closed loop (and its smallest case, the card's sequential mode: one connection, one
//   request at a time). Each connection keeps `pipeline` requests in flight and sends the
//   next only when a reply comes back. The server sets the pace: when it stalls, the
//   generator stops sending, so the requests it would have sent meanwhile are never made
//   and never timed. A 200 ms stall becomes one slow sample instead of hundreds: the
//   generator has "coordinated" with the server and omitted the evidence (coordinated
//   omission, Gil Tene's name for it).
//
//   Open loop. Requests are sent on a schedule, `rate` per second, whatever the server
//   does, and each one's latency is measured from the time the schedule meant to send it
//   (its intended time), not from when it left. A stall then delays every request due
//   during it, and the percentiles show it, as users arriving on their own would feel it.
//
// Latencies go into a Histogram in nanoseconds. The generator also measures its own CPU
// time: a generator busy most of the time measures itself, not the server.
import net from 'node:net';
import { ReplyParser } from '../lib/resp-reply-parser.ts';
import { Histogram } from './histogram.ts';
import { Workload, fillBatch } from './workload.ts';

export interface Target {
  host: string;
  port: number;
}

export type Shape =
  | { kind: 'closed'; clients: number; pipeline: number }
  | { kind: 'open'; clients: number; rate: number };

/** How long a phase runs: a number of requests, or seconds of sending. */
export type Limit = { requests: number } | { seconds: number };

export interface PhaseOutcome {
  requests: number;
  errors: number;
  /** The first error reply, as the server wrote it ("ERR unknown command ..."). */
  firstError?: string;
  /** From the first request sent to the last reply received. */
  seconds: number;
  latency: Histogram;
  /** The generator's CPU time (user + system) over the phase's wall time: 1 is a whole core. */
  clientCpu: number;
  /**
   * Open loop: how late each request left, after its intended time (ns). Node's timers fire
   * about once a millisecond, and a busy generator later still; the latencies include it.
   */
  lateness?: Histogram;
}

/** What a running phase has done so far, for a progress line. */
export interface PhaseProgress {
  completed: number;
  startedAt: number;
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

/**
 * Runs one phase of load on `connections` and returns what it measured; `record: false`
 * runs it untimed (a warm-up). `progress`, if given, is kept up to date while it runs.
 */
export async function runPhase(
  connections: LoadConnection[], workload: Workload, shape: Shape, limit: Limit,
  options: { record?: boolean; progress?: PhaseProgress } = {},
): Promise<PhaseOutcome> {
  const latency = new Histogram();
  const before = connections.map((c) => ({ replies: c.replies, errors: c.errors }));
  for (const c of connections) {
    c.latency = options.record === false ? null : latency;
    c.firstError = undefined;
  }
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  if (options.progress) Object.assign(options.progress, { completed: 0, startedAt });
  let finishedAt = startedAt;
  const lateness = shape.kind === 'open' ? new Histogram() : undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      for (const c of connections) c.onFailure = reject;
      const onDone = () => {
        finishedAt = performance.now();
        resolve();
      };
      if (shape.kind === 'closed') driveClosedLoop(connections, workload, shape.pipeline, limit, startedAt, onDone, options.progress);
      else driveOpenLoop(connections, workload, shape.rate, limit, startedAt, onDone, options.progress, lateness!);
    });
  } finally {
    for (const c of connections) {
      c.onReplies = () => {};
      c.onFailure = () => {};
      c.latency = null;
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = finishedAt - startedAt;
  return {
    requests: connections.reduce((sum, c, i) => sum + c.replies - before[i]!.replies, 0),
    errors: connections.reduce((sum, c, i) => sum + c.errors - before[i]!.errors, 0),
    firstError: connections.find((c) => c.firstError !== undefined)?.firstError,
    seconds: wallMs / 1000,
    latency,
    clientCpu: wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs : 0,
    lateness,
  };
}

/** How many requests a limit allows in all; a time limit allows any number until its end. */
const budgetOf = (limit: Limit) => ('requests' in limit ? limit.requests : Infinity);
const deadlineOf = (limit: Limit, start: number) => ('seconds' in limit ? start + limit.seconds * 1000 : Infinity);

/** Closed loop: each connection keeps `pipeline` requests in flight until the limit is reached. */
function driveClosedLoop(
  connections: LoadConnection[], workload: Workload, pipeline: number, limit: Limit, startedAt: number,
  done: () => void, progress?: PhaseProgress,
): void {
  let unsent = budgetOf(limit);
  let inFlight = 0;
  const deadline = deadlineOf(limit, startedAt);
  const topUp = (c: LoadConnection, now: number) => {
    const count = now < deadline ? Math.min(pipeline - c.inFlight, unsent) : 0;
    if (count === 0) return;
    unsent -= count;
    inFlight += count;
    c.send(workload.batch(count), count, performance.now());
  };
  for (const c of connections) {
    c.onReplies = (now, answered) => {
      inFlight -= answered;
      if (progress) progress.completed += answered;
      topUp(c, now);
      if (inFlight === 0) done(); // nothing in flight, and topUp sent nothing: the limit is reached
    };
  }
  for (const c of connections) topUp(c, startedAt);
  if (inFlight === 0) done(); // a limit of 0 requests
}

/**
 * Open loop: request i is due at startedAt + i / rate, and goes on connection i mod N,
 * stamped with that intended time. What is due is sent by a timer, and also whenever
 * replies arrive: Node's timers fire at best once a millisecond, and under load the
 * replies wake the generator more often than that. However late a request leaves (a busy
 * generator), its latency counts from when it was due, and `lateness` records by how much.
 */
function driveOpenLoop(
  connections: LoadConnection[], workload: Workload, rate: number, limit: Limit, startedAt: number,
  done: () => void, progress: PhaseProgress | undefined, lateness: Histogram,
): void {
  const period = 1000 / rate;
  const total = 'requests' in limit ? limit.requests : Math.round(rate * limit.seconds);
  const n = connections.length;
  let issued = 0;
  let inFlight = 0;
  const sendDue = (now: number) => {
    const due = Math.min(total, Math.floor((now - startedAt) / period) + 1);
    if (due <= issued) return;
    for (let i = issued; i < due; i++) lateness.record((now - (startedAt + i * period)) * 1e6);
    for (let c = 0; c < n; c++) {
      // Of requests issued .. due-1, those for connection c: every n-th, from the first.
      const first = issued + ((c - (issued % n) + n) % n);
      const count = first < due ? Math.ceil((due - first) / n) : 0;
      if (count > 0) connections[c]!.send(workload.batch(count), count, startedAt + first * period, n * period);
    }
    inFlight += due - issued;
    issued = due;
  };
  for (const c of connections) {
    c.onReplies = (now, answered) => {
      inFlight -= answered;
      if (progress) progress.completed += answered;
      sendDue(now);
      if (issued === total && inFlight === 0) done();
    };
  }
  const tick = () => {
    sendDue(performance.now());
    if (issued < total) setTimeout(tick, Math.max(0, startedAt + issued * period - performance.now()));
    else if (inFlight === 0) done();
  };
  tick();
}
