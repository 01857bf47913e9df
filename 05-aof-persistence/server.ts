// Step 05: nothing acknowledged is lost. Every write command that changed the dataset is
// appended to the append-only file (aof.ts) before its reply is sent, and on start the file
// is replayed through the command table. The rest is step 04: keys that die on time.
//
// Run it:   make 05-aof-persistence
// Try it:   redis-cli -p 6380 set greeting hello EX 100   then   cat data/appendonly.aof
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type net from 'node:net';
import { join, resolve } from 'node:path';
import { COMMON_FLAGS, PERSISTENCE_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { listen } from '../lib/listen.ts';
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { ProtocolError, QueryBufferLimitError, ReplyWriter, RequestParser } from '../lib/resp.ts';
import { AofWriter, loadAof } from './aof.ts';
import { dispatch, isCommand, type ClientState, type Context, type ServerState } from './commands.ts';
import { ACTIVE_EXPIRE, Keyspace } from './keyspace.ts';

// NEW: this step's flags add --dir, --appendonly, --appendfsync and --appendfilename.
const FLAGS = { ...COMMON_FLAGS, ...PERSISTENCE_FLAGS };

// `clock` lets tests hold time still and move it by hand (lib/clock.ts's FakeClock).
export type Options = FlagValues<typeof FLAGS> & { logSink?: LogSink; clock?: Clock };

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** A connection: what commands may see (ClientState) plus its socket and buffers. */
interface Client extends ClientState {
  socket: net.Socket;
  parser: RequestParser;
  reply: ReplyWriter;
}

export async function startServer(overrides: Partial<Options> = {}): Promise<RunningServer> {
  const options: Options = { ...flagDefaults(FLAGS), ...overrides };
  const log = createLogger(options.loglevel, options.logSink);
  const clients = new Set<Client>();
  let nextClientId = 1;

  // The keyspace knows the time, to tell which keys are past their deadline.
  const clock = options.clock ?? systemClock;
  // NEW: a key that expires (lazily or in the active cycle) is logged as a DEL, so a replay
  // never depends on when it runs.
  const db = new Keyspace(clock, { onExpire: (key) => server.propagate(['DEL', key]) });
  const server: ServerState = {
    port: options.port,
    startedAt: Date.now(),
    runId: randomBytes(20).toString('hex'),
    clock,
    connectedClients: () => clients.size,
    stats: { connectionsReceived: 0, commandsProcessed: 0, keyspaceHits: 0, keyspaceMisses: 0 },
    // NEW: nothing is propagated until the AOF has been replayed and opened.
    propagate: () => {},
    persistence: {
      appendonly: options.appendonly,
      appendfsync: options.appendfsync,
      dir: resolve(options.dir),
      appendfilename: options.appendfilename,
      aof: null,
    },
  };

  // NEW: replay the AOF, then append every change to it.
  if (options.appendonly) {
    const aof = loadAndOpenAof(db, server, log);
    server.persistence.aof = aof;
    server.propagate = (args) => aof.append(args);
  }

  const commit = new GroupCommit(server); // NEW
  const listener = await listen(options.bind, options.port, (socket) => {
    const client: Client = {
      id: nextClientId++,
      name: '',
      libName: '',
      libVersion: '',
      protocol: 2,
      closeAfterReply: false,
      socket,
      parser: new RequestParser(),
      reply: new ReplyWriter(2),
    };
    clients.add(client);
    server.stats.connectionsReceived++;
    serveClient(client, { db, server, client }, commit, log);
    socket.on('close', () => clients.delete(client));
  }, log);
  server.port = listener.port;

  // Active expiry, `hz` times a second, each run within its time budget.
  const stopActiveExpiry = clock.every(1000 / ACTIVE_EXPIRE.hz, () => db.activeExpireCycle());

  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return {
    port: listener.port,
    async close() {
      stopActiveExpiry();
      // The listener's close waits for open connections to end, so end them first.
      const closing = listener.close();
      for (const client of clients) client.socket.destroy();
      await closing;
      await server.persistence.aof?.close(); // NEW: pending bytes written and synced
    },
  };
}

/**
 * NEW: replays the AOF into the keyspace, then opens it for appending. Replayed commands go
 * through the command table as a client's would, but are not propagated (that would append
 * the file to itself), and nothing expires until the replay is over.
 */
function loadAndOpenAof(db: Keyspace, server: ServerState, log: Logger): AofWriter {
  const { dir, appendfilename, appendfsync } = server.persistence;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, appendfilename);
  const replay: Context = { db, server, client: { id: 0, name: '', libName: '', libVersion: '', protocol: 2, closeAfterReply: false } };
  const started = server.clock.monotonic();
  db.loading = true;
  let report;
  try {
    report = loadAof(path, { run: (args) => dispatch(replay, args), isCommand }, log);
  } finally {
    db.loading = false;
  }
  const seconds = ((server.clock.monotonic() - started) / 1000).toFixed(3);
  if (report === null) log.notice(`No append only file yet: creating ${path}`);
  else log.notice(`DB loaded from append only file: ${seconds} seconds (${report.commands} commands, ${db.size} keys in the dataset)`);
  return new AofWriter({
    path,
    fsync: appendfsync,
    clock: server.clock,
    log,
    // As Redis does: a server that promised `always` and cannot keep the promise stops.
    onFatal: (message) => {
      log.warning(message);
      process.exit(1);
    },
  });
}

function serveClient(client: Client, ctx: Context, commit: GroupCommit, log: Logger): void {
  const { socket } = client;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  log.debug(`Accepted ${peer}`);
  socket.on('data', (chunk: Buffer) => onData(client, ctx, chunk, commit, log));
  socket.on('end', () => socket.end());
  socket.on('error', (err) => log.debug(`Client ${peer} error: ${err.message}`));
  socket.on('close', () => log.debug(`Client closed connection ${peer}`));
}

/**
 * One read from the socket: run every complete request it finished, then send all their
 * replies in one write. A pipelined batch of 100 commands costs one write, not 100.
 */
function onData(client: Client, ctx: Context, chunk: Buffer, commit: GroupCommit, log: Logger): void {
  if (client.closeAfterReply) return;
  client.parser.feed(chunk);
  try {
    for (let request = client.parser.next(); request !== null; request = client.parser.next()) {
      // The command table decides what runs and how argument errors are worded.
      const reply = dispatch(ctx, request);
      ctx.server.stats.commandsProcessed++;
      client.reply.protocol = client.protocol; // HELLO may have just changed it
      client.reply.write(reply);
      if (client.closeAfterReply) break;
    }
  } catch (err) {
    if (err instanceof ProtocolError) {
      // Redis answers a malformed request once, then hangs up: after bad framing, nothing
      // that follows on this connection can be trusted to be a request.
      log.verbose(`Client ${client.id}: ${err.message}`);
      client.reply.error(`ERR ${err.message}`);
      client.closeAfterReply = true;
    } else if (err instanceof QueryBufferLimitError) {
      log.warning(`Closing client ${client.id} that reached max query buffer length`);
      client.socket.destroy();
      return;
    } else {
      throw err;
    }
  }
  // NEW: write-before-reply. The replies leave once the AOF holds the changes they confirm.
  commit.replyWhenDurable(client);
}

/**
 * NEW: group commit, Redis's beforeSleep. While the AOF has commands waiting, replies wait
 * too, until the end of this turn of the event loop: by then Node has delivered every
 * socket's data that was ready, so one write (and under `always` one fdatasync) covers the
 * commands of every client served in the turn. Then all their replies leave.
 */
class GroupCommit {
  private readonly waiting = new Set<Client>();
  private scheduled = false;

  constructor(private readonly server: ServerState) {}

  replyWhenDurable(client: Client): void {
    // Nothing unwritten, so nothing this client was told depends on bytes not yet logged.
    if (!this.server.persistence.aof?.hasPending) return flush(client);
    this.waiting.add(client);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.commit()); // runs after the poll phase: every ready read is in
    }
  }

  private commit(): void {
    this.scheduled = false;
    // false: the `always` promise cannot be kept and the server is stopping; none of the
    // waiting replies may leave.
    if (this.server.persistence.aof?.flush() === false) return;
    for (const client of this.waiting) flush(client);
    this.waiting.clear();
  }
}

function flush(client: Client): void {
  const { socket } = client;
  const bytes = client.reply.take();
  // Backpressure: when the client does not read its replies, stop reading its requests.
  if (bytes !== null && !socket.write(bytes)) {
    socket.pause();
    socket.once('drain', () => socket.resume());
  }
  if (client.closeAfterReply) socket.end(() => socket.destroy());
}

if (isMain(import.meta.url)) {
  await runFromCommandLine(FLAGS, startServer);
}
