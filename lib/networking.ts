// The connection loop, written once: accept clients, read their requests, run each one,
// and send the replies. Step 02 teaches it in its own server.ts; from step 03 on every
// step runs this one and plugs into it through a few hooks named after Redis's
// (networking.c, and beforeSleep in server.c):
//
//   processCommand(client, args)   one request in, one reply out (the step's command table)
//   beforeSleep()                  once per event-loop turn, before any reply leaves: step 05
//                                  writes the AOF here, so no reply confirms what the disk
//                                  does not hold yet
//   clientClosed(client)           a connection ended: release what it held (WATCHed keys,
//                                  subscriptions)
//   createClient(id, socket)       the step's own object for a connection: a subclass of
//                                  Connection with what its commands keep per client
//   outputBufferLimit(client)      how much unsent output a client may have before it is
//                                  cut off (step 07: a subscriber that stops reading)
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
import { listen, type Listener } from './listen.ts';
import type { Logger } from './log.ts';
import type { ProtocolVersion, RespValue } from './resp.ts';
import { ProtocolError, QueryBufferLimitError, RequestParser } from './resp-request.ts';
import { ReplyWriter } from './resp-reply.ts';

/**
 * One client connection: its socket, its parser, its pending replies, and what it told us.
 * Steps extend it with what their commands keep per client (Redis keeps all of it in one
 * struct client). The socket is null for a client with no connection, such as the one that
 * replays the AOF (Redis's "fake client").
 */
export class Connection {
  readonly parser = new RequestParser();
  /** Replies not yet written. It also holds the protocol version, which HELLO changes. */
  readonly reply = new ReplyWriter(2);
  /** "ip:port" of the other end, as CLIENT LIST shows it. */
  readonly peer: string;
  name = '';
  libName = '';
  libVersion = '';
  /** Set by QUIT and by protocol errors: the replies so far leave, then the socket closes. */
  closeAfterReply = false;
  /**
   * Replies that were encoded once for many clients (a published message), in order after
   * what `reply` held when they were queued. Shared, never copied per client.
   */
  private outbox: Buffer[] = [];
  private outboxBytes = 0;
  /** When the client's output first went over its soft limit (monotonic ms), or -1. */
  softLimitSince = -1;

  constructor(
    readonly id: number,
    readonly socket: net.Socket | null,
  ) {
    this.peer = socket === null ? '' : `${socket.remoteAddress}:${socket.remotePort}`;
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

  /** True when shared encoded replies wait beside the reply writer's bytes. */
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
 * How much output a client may leave unread (Redis's client-output-buffer-limit): past
 * `hardBytes` it is disconnected at once; past `softBytes` for more than `softSeconds`, too.
 * 0 means no limit.
 */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

export interface NetworkingHooks<C extends Connection> {
  /** Runs one request and returns its reply (Redis's processCommand). */
  processCommand(client: C, args: string[]): RespValue;
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
   * Queues a reply already encoded for the client's protocol: a published message is
   * encoded once per protocol and the same bytes go to every receiver. A client whose
   * unread output passes its limit is disconnected; the sender and the others never wait.
   */
  addEncodedReply(client: C, bytes: Buffer): void {
    if (client.socket === null || client.socket.destroyed) return;
    client.queueEncoded(bytes);
    this.replyAtTurnEnd(client);
    if (this.overOutputLimit(client)) {
      const omem = client.pendingOutputBytes;
      this.log.warning(`Client id=${client.id} addr=${client.peer} name=${client.name} omem=${omem} closed for overcoming of output buffer limits.`);
      client.socket.destroy();
    }
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
    const id = this.nextClientId++;
    const client = this.hooks.createClient(id, socket);
    this.clients.add(client);
    this.connectionsReceived++;
    this.log.debug(`Accepted ${client.peer}`);
    socket.on('data', (chunk: Buffer) => this.readQuery(client, chunk));
    // The client closed its sending side: answer what it sent, then close ours.
    socket.on('end', () => socket.end());
    socket.on('error', (err) => this.log.debug(`Client ${client.peer} error: ${err.message}`));
    socket.on('close', () => this.freeClient(client));
  }

  /**
   * One read from the socket: run every complete request it finished. Their replies leave
   * together at the end of the turn, so a pipelined batch of 100 commands costs one write.
   */
  private readQuery(client: C, chunk: Buffer): void {
    if (client.closeAfterReply) return;
    client.parser.feed(chunk);
    try {
      for (let request = client.parser.next(); request !== null; request = client.parser.next()) {
        client.reply.write(this.hooks.processCommand(client, request));
        this.commandsProcessed++;
        if (client.closeAfterReply) break;
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        // Redis answers a malformed request once, then hangs up: after bad framing, nothing
        // that follows on this connection can be trusted to be a request.
        // The offending byte may be a CR or LF: an error reply is one line, as in Redis.
        const message = err.message.replace(/[\r\n]/g, ' ');
        this.log.verbose(`Client ${client.id}: ${message}`);
        client.reply.error(`ERR ${message}`);
        client.closeAfterReply = true;
      } else if (err instanceof QueryBufferLimitError) {
        this.log.warning(`Closing client ${client.id} that reached max query buffer length`);
        client.socket?.destroy();
        return;
      } else {
        throw err;
      }
    }
    this.replyAtTurnEnd(client);
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
    if (socket === null || socket.destroyed) return;
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
    if (!flowing && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
    if (client.closeAfterReply) socket.end(() => socket.destroy());
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
