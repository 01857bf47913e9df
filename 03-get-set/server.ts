// Step 03: a key-value store. Requests now go through a command table (commands.ts) that
// checks names and argument counts the way Redis does, and the data lives in a Map. The
// connection loop step 02 taught is lib/networking.ts from here on.
// 03: rewritten: what stays here is the server's state, and the Client a command sees.
//
// Run it:   make 03-get-set
// Try it:   redis-cli -p 6380 set greeting hello   then   redis-cli -p 6380 get greeting
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { COMMON_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { Connection } from '../lib/connection.ts';
import { Networking } from '../lib/networking.ts';
import { COMMANDS, FAMILIES, processCommand } from './commands.ts';

export type Options = FlagValues<typeof COMMON_FLAGS> & { logSink?: LogSink };

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
  readonly db = new Map<string, string>();
  readonly stats = { keyspaceHits: 0, keyspaceMisses: 0 };
  readonly runId = randomBytes(20).toString('hex');
  readonly net: Networking<Client>;
  // 03: the command table (Redis's server.commands) and the families it was gathered from:
  // INFO, CONFIG GET and COMMAND read them here.
  readonly commands = COMMANDS;
  readonly families = FAMILIES;
  readonly bind: readonly string[]; // the addresses --bind asked for
  port: number; // the one the OS picked, once listening on port 0
  private readonly startedAt = performance.now(); // uptime is a duration: a monotonic clock

  constructor(options: Options, log: Logger) {
    this.port = options.port;
    this.bind = options.bind;
    this.net = new Networking<Client>({
      // 03: every request goes through the command table.
      processCommand: (client, args) => processCommand(client, args),
      createClient: (id, socket) => new Client(id, socket, this),
    }, log);
  }

  /** How long the server has been up, in milliseconds (INFO's uptime_in_seconds). */
  uptimeMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Stops serving: every connection is ended. */
  async close(): Promise<void> {
    await this.net.close();
  }
}

/** A connection as a command sees it (Redis's client): lib's Connection, plus its server. */
export class Client extends Connection {
  constructor(id: number, socket: net.Socket | null, readonly server: Server) {
    super(id, socket);
  }

  get db(): Map<string, string> {
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
