// The load generator's engine: connections that send batches of requests and time each
// reply (load-connection.ts), driven in one of two ways.
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
// time: a generator busy most of the time measures itself, not the server. The
// connections are load-connection.ts's.
import { Histogram } from './histogram.ts';
import type { LoadConnection } from './load-connection.ts';
import type { Workload } from './workload.ts';

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
