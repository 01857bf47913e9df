// Step 04: keys that die on time. The keyspace (keyspace.ts) keeps a deadline per key,
// deletes a key that is past it whenever it is touched (lazy expiry), and ten times a
// second samples keys with deadlines to reclaim the ones nobody reads (active expiry).
// expire.ts adds EXPIRE, TTL, PERSIST and friends; strings.ts gains SET EX/PX/EXAT/PXAT/
// KEEPTTL, SETEX and GETEX. The rest is step 03.
//
// Run it:   make 04-expiry
// Try it:   redis-cli -p 6380 set greeting hello EX 10   then   redis-cli -p 6380 ttl greeting
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { COMMON_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { systemClock, type Cancel, type Clock } from '../lib/clock.ts'; // 04
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { Connection } from '../lib/connection.ts';
import { Networking } from '../lib/networking.ts';
import { COMMANDS, FAMILIES, processCommand } from './commands.ts';
import { ACTIVE_EXPIRE, Keyspace } from './keyspace.ts'; // 04

// 04: `clock` lets tests hold time still and move it by hand (lib/clock.ts's FakeClock).
export type Options = FlagValues<typeof COMMON_FLAGS> & { logSink?: LogSink; clock?: Clock };

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

  constructor(options: Options, log: Logger) {
    this.port = options.port;
    this.bind = options.bind;
    this.clock = options.clock ?? systemClock; // 04
    this.startedAt = this.clock.monotonic(); // 04
    this.db = new Keyspace(this.clock); // 04
    this.net = new Networking<Client>({
      // 03: every request goes through the command table.
      processCommand: (client, args) => processCommand(client, args),
      createClient: (id, socket) => new Client(id, socket, this),
    }, log);
    this.stopCron = this.clock.every(1000 / ACTIVE_EXPIRE.hz, () => this.cron()); // 04
  }

  /**
   * 04: Redis's serverCron, the periodic work, `hz` times a second: for now one cycle of
   * active expiry, which keeps within its own time budget.
   */
  private cron(): void {
    this.db.activeExpireCycle();
  }

  /** How long the server has been up, in milliseconds (INFO's uptime_in_seconds). */
  uptimeMs(): number {
    return this.clock.monotonic() - this.startedAt; // 04: the clock's, so tests can move it
  }

  /** Stops serving: every connection is ended. */
  async close(): Promise<void> {
    this.stopCron(); // 04
    await this.net.close();
  }
}

/** A connection as a command sees it (Redis's client): lib's Connection, plus its server. */
export class Client extends Connection {
  constructor(id: number, socket: net.Socket | null, readonly server: Server) {
    super(id, socket);
  }

  get db(): Keyspace { // 04
    return this.server.db;
  }
}

export async function startServer(overrides: Partial<Options> = {}): Promise<RunningServer> {
  const options: Options = { ...flagDefaults(COMMON_FLAGS), ...overrides };
  const log = createLogger(options.loglevel, options.logSink);
  const server = new Server(options, log);
  const listener = await server.net.listen(options.bind, options.port);
  server.port = listener.port;
  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return { port: listener.port, close: () => server.close() };
}

if (isMain(import.meta.url)) {
  await runFromCommandLine(COMMON_FLAGS, startServer);
}
