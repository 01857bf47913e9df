// Step 05: nothing acknowledged is lost. Every write command that changed the dataset is
// propagated (propagate.ts) to the append-only file (aof.ts), which is written once per
// event-loop turn, before the replies that confirm those writes leave; on start the file is
// replayed (aof-load.ts). Transactions (transactions.ts) run queued commands as one unit,
// and reach the file as one MULTI ... EXEC block. The rest is step 04.
//
// Run it:   make 05-aof-persistence
// Try it:   redis-cli -p 6380 set greeting hello EX 100   then   cat data/appendonly.aof
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs'; // 05
import type net from 'node:net';
import { join, resolve } from 'node:path'; // 05
import { COMMON_FLAGS, PERSISTENCE_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { systemClock, type Cancel, type Clock } from '../lib/clock.ts'; // 04
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { Connection } from '../lib/connection.ts';
import { Networking } from '../lib/networking.ts';
import { loadAof } from './aof-load.ts'; // 05
import { AofWriter, type FileIo } from './aof.ts';
import { COMMANDS, FAMILIES, isCommand, processCommand } from './commands.ts';
import { ACTIVE_EXPIRE, Keyspace } from './keyspace.ts'; // 04
import { Propagation, TARGETS, type TargetMask } from './propagate.ts';
import { TransactionState, WatchedKeys, discardTransaction } from './transactions.ts';

// 05: this step's flags add --dir, --appendonly, --appendfsync and --appendfilename.
const FLAGS = { ...COMMON_FLAGS, ...PERSISTENCE_FLAGS };

// 04: `clock` lets tests hold time still and move it by hand (lib/clock.ts's FakeClock).
// 05: `fileIo` and `onFatal` let tests give the AOF a failing disk and watch what follows.
export type Options = FlagValues<typeof FLAGS> & {
  logSink?: LogSink;
  clock?: Clock;
  fileIo?: FileIo;
  onFatal?: (message: string) => void;
};

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Everything the server knows, in one object (Redis's struct redisServer). Commands reach
 * it through the client that sent them, so tests can run as many servers as they like.
 */
export class Server {
  // 03: the keyspace. Keys and values are latin1 strings: one char per byte, binary-safe.
  // 04: a Map with deadlines, which knows the time to tell which keys are past theirs.
  readonly db: Keyspace;
  readonly clock: Clock; // 04: where "now" comes from, so tests can move time
  readonly stats = { keyspaceHits: 0, keyspaceMisses: 0 };
  readonly runId = randomBytes(20).toString('hex');
  readonly net: Networking<Client>;
  // 03: the command table (Redis's server.commands) and the families it was gathered from:
  // INFO, CONFIG GET and COMMAND read them here.
  readonly commands = COMMANDS;
  readonly families = FAMILIES;
  readonly bind: readonly string[]; // the addresses --bind asked for
  port: number; // the one the OS picked, once listening on port 0
  private readonly startedAt: number; // 04: on the clock's monotonic time
  private readonly stopCron: Cancel; // 04
  // 05: the persistence settings, and the AOF writer when appendonly is on.
  readonly settings: Pick<Options, 'appendonly' | 'appendfsync' | 'dir' | 'appendfilename'>;
  readonly aof: AofWriter | null;
  readonly propagation: Propagation; // 05: where every change goes: the AOF
  readonly watchedKeys: WatchedKeys; // 05: WATCH's registry
  private readonly log: Logger;

  constructor(options: Options, log: Logger) {
    this.port = options.port;
    this.bind = options.bind;
    this.log = log; // 05
    this.clock = options.clock ?? systemClock; // 04
    this.startedAt = this.clock.monotonic(); // 04
    // 05: a key that expires is propagated as a DEL, so a replay never depends on when it
    // runs; and any change to a key, or a flush, reaches the clients WATCHing it.
    this.db = new Keyspace(this.clock, {
      onExpire: (key) => this.propagate(['DEL', key]),
      onModify: (key) => this.watchedKeys.touch(key),
      onFlush: () => this.watchedKeys.touchAll(),
    });
    this.watchedKeys = new WatchedKeys(this.db);
    const { appendonly, appendfsync, appendfilename } = options;
    this.settings = { appendonly, appendfsync, appendfilename, dir: resolve(options.dir) };
    this.aof = appendonly ? this.openAof(options) : null;
    this.propagation = new Propagation();
    if (this.aof !== null) this.propagation.addTarget(this.aof, TARGETS.AOF);
    this.net = new Networking<Client>({
      // 03: every request goes through the command table.
      processCommand: (client, args) => processCommand(client, args),
      createClient: (id, socket) => new Client(id, socket, this),
      // 05: the turn's changes go to their targets, and the AOF is written, before any of
      // the turn's replies leave; if it cannot keep its promise, none of them ever does.
      beforeSleep: () => {
        this.propagation.flush();
        return this.aof?.flush() ?? true;
      },
      clientClosed: (client) => discardTransaction(client), // 05: a closed connection unwatches
    }, log);
    this.stopCron = this.clock.every(1000 / ACTIVE_EXPIRE.hz, () => this.cron()); // 04
  }

  /** 05: opens the AOF in --dir for appending. It is replayed before listening. */
  private openAof(options: Options): AofWriter {
    const { dir, appendfilename, appendfsync } = this.settings;
    mkdirSync(dir, { recursive: true });
    return new AofWriter({
      path: join(dir, appendfilename),
      fsync: appendfsync,
      clock: this.clock,
      log: this.log,
      ...(options.fileIo && { io: options.fileIo }),
      // As Redis does: a server that promised `always` and cannot keep the promise stops.
      onFatal: options.onFatal ?? ((message) => {
        this.log.warning(message);
        process.exit(1);
      }),
    });
  }

  /** 05: a change to the dataset, for the propagation targets it is for (Redis's alsoPropagate). */
  propagate(args: readonly string[], targets: TargetMask = TARGETS.ALL): void {
    if (this.db.loading) return; // replaying the AOF: its commands are in it already
    this.propagation.propagate(args, targets);
  }

  /**
   * 05: replays the AOF into the keyspace (Redis's loadDataFromDisk), through the command
   * table, as a client with no connection. Called once, before the server listens.
   */
  loadDataFromDisk(): void {
    const aof = this.aof;
    if (aof === null) return;
    const replay = new Client(0, null, this);
    const started = this.clock.monotonic();
    const report = this.db.load(() => loadAof(aof.path, {
      run: (args) => processCommand(replay, args),
      isCommand: (name) => isCommand(name),
      truncate: (length) => aof.truncate(length),
    }, this.log));
    const seconds = ((this.clock.monotonic() - started) / 1000).toFixed(3);
    if (report === null) this.log.notice(`No append only file yet: creating ${aof.path}`);
    else this.log.notice(`DB loaded from append only file: ${seconds} seconds (${report.commands} commands, ${this.db.size} keys in the dataset)`);
  }

  /**
   * 04: Redis's serverCron, the periodic work, `hz` times a second: for now one cycle of
   * active expiry, which keeps within its own time budget.
   */
  private cron(): void {
    this.db.activeExpireCycle();
    // 05: the AOF has work no client is waiting for (the cycle's DELs, a write to retry,
    // an everysec fsync that is due): it is done in beforeSleep, the one place that writes.
    if (this.propagation.pendingBytes > 0 || this.aof?.needsFlush) this.net.scheduleBeforeSleep();
  }

  /** How long the server has been up, in milliseconds (INFO's uptime_in_seconds). */
  uptimeMs(): number {
    return this.clock.monotonic() - this.startedAt; // 04: the clock's, so tests can move it
  }

  /** Stops serving: every connection is ended. */
  async close(): Promise<void> {
    this.stopCron(); // 04
    await this.net.close();
    this.propagation.flush(); // 05: the last changes, to the AOF
    await this.aof?.close(); // 05: pending bytes written and synced
  }
}

/** A connection as a command sees it (Redis's client): lib's Connection, plus its server. */
export class Client extends Connection {
  readonly transaction = new TransactionState(); // 05: MULTI's queue and the WATCHed keys
  /** 05: what the running write command asks to propagate instead of itself (strings.ts). */
  propagateAs: string[] | undefined = undefined;

  constructor(id: number, socket: net.Socket | null, readonly server: Server) {
    super(id, socket);
  }

  get db(): Keyspace { // 04
    return this.server.db;
  }
}

export async function startServer(overrides: Partial<Options> = {}): Promise<RunningServer> {
  const options: Options = { ...flagDefaults(FLAGS), ...overrides }; // 05: FLAGS
  const log = createLogger(options.loglevel, options.logSink);
  const server = new Server(options, log);
  server.loadDataFromDisk(); // 05
  const listener = await server.net.listen(options.bind, options.port);
  server.port = listener.port;
  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return { port: listener.port, close: () => server.close() };
}

if (isMain(import.meta.url)) {
  await runFromCommandLine(FLAGS, startServer); // 05: FLAGS
}
