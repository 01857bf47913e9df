// The connection loop, written once: accept clients, read their requests, run each one,
// and send the replies. Step 02 teaches it in its own server.ts; from step 03 on every
// step runs this one and plugs into it through a few hooks named after Redis's
// (networking.c, and beforeSleep in server.c):
//
//   processCommand(client, args)   one request in, its answer out (the step's command table)
//   beforeSleep()                  once per event-loop turn, before any reply leaves: step 05
//                                  writes the AOF here, so no reply confirms what the disk
//                                  does not hold yet
//   clientClosed(client)           a connection ended: release what it held (WATCHed keys,
//                                  subscriptions)
//   createClient(id, socket)       the step's own object for a connection: a subclass of
//                                  Connection (connection.ts) with what its commands keep
//   outputBufferLimit(client)      how much unsent output a client may have before it is
//                                  cut off (step 07: a subscriber that stops reading)
//   masterBytesApplied(client, b)  step 08, on a replica: the exact bytes of what its master
//                                  sent and it applied, to count and to hand on
//
// A command answers in one of three ways (Answer): a reply now, which is what almost every
// command does; NO_REPLY, nothing at all (a replica's REPLCONF ACK); or BLOCKED: the answer
// comes later, through unblock() (WAIT waits for replicas), and the client's next requests
// wait until it has it. A client of kind 'master' is never answered: its replies are dropped.
//
// Replies are never written from inside a read. They collect in the client's ReplyWriter,
// the client joins the set of clients with pending replies, and at the end of the
// event-loop turn (after Node has delivered every socket read that was ready) beforeSleep
// runs once and then every pending client gets one socket write. This is Redis's
// handleClientsWithPendingWrites, and it is what makes group commit possible.
//
// ```mermaid
// flowchart LR
//   R[socket 'data'] --> P[RequestParser] --> C[processCommand] --> W[ReplyWriter]
//   W --> Q{{pending clients}}
//   Q -- end of turn --> B[beforeSleep] --> S[socket.write, one per client]
// ```
import type net from 'node:net';
import { systemClock, type Clock } from './clock.ts';
import { ByteQueue, type ClientKind, type Connection, type OutputBufferLimit } from './connection.ts';
import { listen, type Listener } from './listen.ts';
import type { Logger } from './log.ts';
import type { RespValue } from './resp.ts';
import { ProtocolError, QueryBufferLimitError } from './resp-request.ts';

/** The command answers nothing: no reply is written (its bytes, if any, went out another way). */
export const NO_REPLY: unique symbol = Symbol('no reply');
/** The command's answer comes later, through Networking.unblock(). */
export const BLOCKED: unique symbol = Symbol('blocked');
/** What a command returns to the loop: a reply now, nothing, or later. */
export type Answer = RespValue | typeof NO_REPLY | typeof BLOCKED;

export interface NetworkingHooks<C extends Connection> {
  /** Runs one request and returns its answer (Redis's processCommand). */
  processCommand(client: C, args: string[]): Answer;
  /**
   * Once per event-loop turn, before the turn's replies leave (Redis's beforeSleep).
   * Returning false holds every pending reply: what they would confirm is not safe.
   */
  beforeSleep?(): boolean;
  /** A connection ended, for whatever reason (Redis's freeClient). */
  clientClosed?(client: C): void;
  /** Makes the object for a new connection: the step's own Connection subclass. */
  createClient(id: number, socket: net.Socket): C;
  /** The output limit that applies to this client now, if any (by its class: a subscriber...). */
  outputBufferLimit?(client: C): OutputBufferLimit | null;
  /**
   * A client of kind 'master' had a request applied: here are its exact bytes, to count in
   * the replica's offset and feed to its own replicas (Redis's
   * replicationFeedStreamFromMasterStream). Inside a transaction nothing is handed on until
   * EXEC, and then the whole MULTI ... EXEC at once (see insideTransaction).
   */
  masterBytesApplied?(client: C, bytes: Buffer): void;
  /** Is the client inside MULTI? Its applied bytes then wait for the EXEC. */
  insideTransaction?(client: C): boolean;
}

/** The clients of one server, and the loop that serves them. */
export class Networking<C extends Connection> {
  readonly clients = new Set<C>();
  /** Connections accepted since the start (INFO's total_connections_received). */
  connectionsReceived = 0;
  /** Requests run since the start (INFO's total_commands_processed). */
  commandsProcessed = 0;
  private nextClientId = 1;
  private readonly pendingWrites = new Set<C>();
  private turnEndScheduled = false;
  private listener: Listener | null = null;

  constructor(
    private readonly hooks: NetworkingHooks<C>,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts accepting connections on every bind address; returns the port. */
  async listen(hosts: readonly string[], port: number): Promise<Listener> {
    this.listener = await listen(hosts, port, (socket) => this.accept(socket), this.log);
    return this.listener;
  }

  /**
   * Makes a socket the server opened itself (with net.connect: a replica's link to its
   * master) a client of the loop, of the given kind: listed, read, written and closed like
   * an accepted one. `received` is what was already read from it past a handshake: the
   * start of the client's requests.
   */
  adopt(socket: net.Socket, kind: ClientKind, received?: Buffer): C {
    const client = this.register(socket);
    client.kind = kind;
    if (kind === 'master') client.masterStream = new ByteQueue();
    this.log.debug(`Adopted ${client.peer} as a ${kind} client`);
    if (received !== undefined && received.length > 0) this.readQuery(client, received);
    return client;
  }

  /**
   * Queues bytes encoded once elsewhere: a published message (encoded once per protocol,
   * the same bytes for every receiver); from step 08 the replication stream, and a
   * replica's ACK to its master. A client whose unread output passes its limit is
   * disconnected; the sender and the others never wait.
   */
  sendTo(client: C, bytes: Buffer): void {
    if (client.socket === null || client.socket.destroyed) return;
    client.queueEncoded(bytes);
    this.replyAtTurnEnd(client);
    if (this.overOutputLimit(client)) {
      const omem = client.pendingOutputBytes;
      this.log.warning(`Client id=${client.id} addr=${client.peer} name=${client.name} omem=${omem} closed for overcoming of output buffer limits.`);
      client.socket.destroy();
    }
  }

  /** A blocked client gets its answer; the requests it sent meanwhile run on a later tick. */
  unblock(client: C, reply: RespValue): void {
    if (!client.blocked) return;
    client.blocked = false;
    if (client.kind !== 'master') client.reply.write(reply);
    this.replyAtTurnEnd(client);
    // Never from inside the caller (another client's command, a timer): on its own tick.
    setImmediate(() => this.resumeAfterBlock(client));
  }

  /**
   * Output queued for the client stays queued until releaseOutput(): while a replica's
   * snapshot is written straight to its socket, the stream that follows waits behind it.
   */
  holdOutput(client: C): void {
    client.outputHeld = true;
  }

  releaseOutput(client: C): void {
    client.outputHeld = false;
    this.replyAtTurnEnd(client);
  }

  /**
   * Asks for a beforeSleep at the end of this turn although no client is waiting: for work
   * a timer started (the active expiry cycle's DELs must reach the AOF).
   */
  scheduleBeforeSleep(): void {
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    // setImmediate runs after the poll phase, once every socket read that was ready has
    // been delivered: one beforeSleep (one AOF write) covers all of them.
    setImmediate(() => this.beforeSleep());
  }

  /** Stops accepting, ends every connection, and resolves once the listener is closed. */
  async close(): Promise<void> {
    // The listener's close waits for open connections to end, so end them first.
    const closing = this.listener?.close();
    for (const client of this.clients) client.socket?.destroy();
    await closing;
  }

  private accept(socket: net.Socket): void {
    this.connectionsReceived++;
    const client = this.register(socket);
    this.log.debug(`Accepted ${client.peer}`);
  }

  private register(socket: net.Socket): C {
    const client = this.hooks.createClient(this.nextClientId++, socket);
    this.clients.add(client);
    socket.on('data', (chunk: Buffer) => this.readQuery(client, chunk));
    // The client closed its sending side: answer what it sent, then close ours.
    socket.on('end', () => socket.end());
    socket.on('error', (err) => this.log.debug(`Client ${client.peer} error: ${err.message}`));
    socket.on('close', () => this.freeClient(client));
    return client;
  }

  /**
   * One read from the socket: run every complete request it finished. Their replies leave
   * together at the end of the turn, so a pipelined batch of 100 commands costs one write.
   */
  private readQuery(client: C, chunk: Buffer): void {
    if (client.closeAfterReply) return;
    client.parser.feed(chunk);
    client.masterStream?.push(chunk);
    if (client.blocked) {
      this.updateReading(client); // it waits with what it sent; the socket holds the rest
      return;
    }
    this.processInputBuffer(client);
    this.replyAtTurnEnd(client);
  }

  /** Runs the client's complete requests, until none is left or one blocks (Redis's processInputBuffer). */
  private processInputBuffer(client: C): void {
    try {
      for (let request = client.parser.next(); request !== null; request = client.parser.next()) {
        const answer = this.hooks.processCommand(client, request);
        this.commandsProcessed++;
        if (client.masterStream !== null) this.handOnMasterBytes(client);
        if (typeof answer !== 'symbol') {
          if (client.kind !== 'master') client.reply.write(answer);
        } else if (answer === BLOCKED) {
          client.blocked = true;
          this.updateReading(client);
          return;
        }
        if (client.closeAfterReply) return;
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        // Redis answers a malformed request once, then hangs up: after bad framing, nothing
        // that follows on this connection can be trusted to be a request.
        // The offending byte may be a CR or LF: an error reply is one line, as in Redis.
        const message = err.message.replace(/[\r\n]/g, ' ');
        this.log.verbose(`Client ${client.id}: ${message}`);
        if (client.kind !== 'master') client.reply.error(`ERR ${message}`);
        client.closeAfterReply = true;
      } else if (err instanceof QueryBufferLimitError) {
        this.log.warning(`Closing client ${client.id} that reached max query buffer length`);
        client.socket?.destroy();
      } else {
        throw err;
      }
    }
  }

  /** The bytes of the request just applied, from the master's stream, unless a transaction is open. */
  private handOnMasterBytes(client: C): void {
    if (this.hooks.insideTransaction?.(client) === true) return;
    const stream = client.masterStream!;
    const applied = client.parser.consumed - stream.taken;
    if (applied > 0) this.hooks.masterBytesApplied?.(client, stream.take(applied));
  }

  private resumeAfterBlock(client: C): void {
    if (!this.clients.has(client) || client.blocked) return;
    this.processInputBuffer(client);
    this.replyAtTurnEnd(client);
    this.updateReading(client);
  }

  private replyAtTurnEnd(client: C): void {
    this.pendingWrites.add(client);
    this.scheduleBeforeSleep();
  }

  private beforeSleep(): void {
    this.turnEndScheduled = false;
    if (this.hooks.beforeSleep?.() === false) return; // held: nothing may be confirmed
    for (const client of this.pendingWrites) this.writeToClient(client);
    this.pendingWrites.clear();
  }

  private writeToClient(client: C): void {
    const { socket } = client;
    if (socket === null || socket.destroyed || client.outputHeld) return;
    let flowing = true;
    if (!client.hasEncoded) {
      // The common case: this turn's replies, in one buffer.
      const bytes = client.reply.take();
      if (bytes !== null) flowing = socket.write(bytes);
    } else {
      socket.cork(); // several buffers: as few segments as they fit in
      for (const bytes of client.takeOutput()) flowing = socket.write(bytes);
      socket.uncork();
    }
    // Backpressure: when the client does not read its replies, stop reading its requests.
    if (!flowing && !client.waitingForDrain) {
      client.waitingForDrain = true;
      this.updateReading(client);
      socket.once('drain', () => {
        client.waitingForDrain = false;
        this.updateReading(client);
      });
    }
    if (client.closeAfterReply) socket.end(() => socket.destroy());
  }

  /** The socket is read only while its client can take requests: not blocked, not backed up. */
  private updateReading(client: C): void {
    const { socket } = client;
    if (socket === null || socket.destroyed) return;
    const read = !client.blocked && !client.waitingForDrain;
    if (read && socket.isPaused()) socket.resume();
    else if (!read && !socket.isPaused()) socket.pause();
  }

  /** Redis's checkClientOutputBufferLimits: the hard limit at once, the soft one in time. */
  private overOutputLimit(client: C): boolean {
    const limit = this.hooks.outputBufferLimit?.(client);
    if (limit === null || limit === undefined) return false;
    const pending = client.pendingOutputBytes;
    if (limit.hardBytes > 0 && pending >= limit.hardBytes) return true;
    if (limit.softBytes === 0 || pending < limit.softBytes) {
      client.softLimitSince = -1;
      return false;
    }
    const now = this.clock.monotonic();
    if (client.softLimitSince < 0) client.softLimitSince = now;
    return now - client.softLimitSince > limit.softSeconds * 1000;
  }

  private freeClient(client: C): void {
    this.clients.delete(client);
    this.pendingWrites.delete(client);
    this.log.debug(`Client closed connection ${client.peer}`);
    this.hooks.clientClosed?.(client);
  }
}
