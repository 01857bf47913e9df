// Step 04: keys that die on time. The keyspace (keyspace.ts) keeps a deadline per key,
// deletes a key that is past it whenever it is touched (lazy expiry), and ten times a
// second samples keys with deadlines to reclaim the ones nobody reads (active expiry).
// The command table (commands.ts) gains SET EX/PX/EXAT/PXAT/KEEPTTL, SETEX, GETEX, EXPIRE,
// TTL, PERSIST and friends.
//
// Run it:   make 04-expiry
// Try it:   redis-cli -p 6380 set greeting hello EX 10   then   redis-cli -p 6380 ttl greeting
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { COMMON_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { listen } from '../lib/listen.ts';
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { ProtocolError, QueryBufferLimitError, ReplyWriter, RequestParser } from '../lib/resp.ts';
import { dispatch, type ClientState, type Context, type ServerState } from './commands.ts';
import { ACTIVE_EXPIRE, Keyspace } from './keyspace.ts';

// NEW: `clock` lets tests hold time still and move it by hand (lib/clock.ts's FakeClock).
export type Options = FlagValues<typeof COMMON_FLAGS> & { logSink?: LogSink; clock?: Clock };

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
  const options: Options = { ...flagDefaults(COMMON_FLAGS), ...overrides };
  const log = createLogger(options.loglevel, options.logSink);
  const clients = new Set<Client>();
  let nextClientId = 1;

  // NEW: the keyspace knows the time, to tell which keys are past their deadline.
  const clock = options.clock ?? systemClock;
  const db = new Keyspace(clock);
  const server: ServerState = {
    port: options.port,
    startedAt: Date.now(),
    runId: randomBytes(20).toString('hex'),
    clock,
    connectedClients: () => clients.size,
    stats: { connectionsReceived: 0, commandsProcessed: 0, keyspaceHits: 0, keyspaceMisses: 0 },
  };

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
    serveClient(client, { db, server, client }, log);
    socket.on('close', () => clients.delete(client));
  }, log);
  server.port = listener.port;

  // NEW: active expiry, `hz` times a second, each run within its time budget.
  const stopActiveExpiry = clock.every(1000 / ACTIVE_EXPIRE.hz, () => db.activeExpireCycle());

  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return {
    port: listener.port,
    async close() {
      stopActiveExpiry(); // NEW
      // The listener's close waits for open connections to end, so end them first.
      const closing = listener.close();
      for (const client of clients) client.socket.destroy();
      await closing;
    },
  };
}

function serveClient(client: Client, ctx: Context, log: Logger): void {
  const { socket } = client;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  log.debug(`Accepted ${peer}`);
  socket.on('data', (chunk: Buffer) => onData(client, ctx, chunk, log));
  socket.on('end', () => socket.end());
  socket.on('error', (err) => log.debug(`Client ${peer} error: ${err.message}`));
  socket.on('close', () => log.debug(`Client closed connection ${peer}`));
}

/**
 * One read from the socket: run every complete request it finished, then send all their
 * replies in one write. A pipelined batch of 100 commands costs one write, not 100.
 */
function onData(client: Client, ctx: Context, chunk: Buffer, log: Logger): void {
  if (client.closeAfterReply) return;
  client.parser.feed(chunk);
  try {
    for (let request = client.parser.next(); request !== null; request = client.parser.next()) {
      // NEW: the command table decides what runs and how argument errors are worded.
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
  flush(client);
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
  await runFromCommandLine(COMMON_FLAGS, startServer);
}
