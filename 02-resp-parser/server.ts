// Step 02: speak RESP. Requests are parsed incrementally (they may arrive split at any
// byte, or many at once), answered in RESP2 or RESP3, and all the replies to one read
// leave in one write.
// 02: rewritten: step 01's echo loop becomes a server that parses, runs and answers.
//
// Run it:   make 02-resp-parser
// Try it:   redis-cli -p 6380 ping      or type PING into nc localhost 6380
import type net from 'node:net';
import { COMMON_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { listen } from '../lib/listen.ts';
import { createLogger, type Logger, type LogSink } from '../lib/log.ts';
import { parseInt64 } from '../lib/numbers.ts';
import {
  NULL_BULK, OK, ProtocolError, QueryBufferLimitError, ReplyWriter, RequestParser,
  array, bulk, error, integer, map, simple, type ProtocolVersion, type RespValue,
} from './resp.ts';

export type Options = FlagValues<typeof COMMON_FLAGS> & { logSink?: LogSink };

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** The version of Redis whose replies this server reproduces. */
const REDIS_VERSION = '7.0.15';

/** What the server knows about one connection. */
interface Client {
  id: number;
  socket: net.Socket;
  parser: RequestParser;
  reply: ReplyWriter; // knows the connection's protocol version (HELLO changes it)
  name: string;
  closeAfterReply: boolean; // set by QUIT and by protocol errors
}

export async function startServer(overrides: Partial<Options> = {}): Promise<RunningServer> {
  const options: Options = { ...flagDefaults(COMMON_FLAGS), ...overrides };
  const log = createLogger(options.loglevel, options.logSink);
  const clients = new Set<Client>();
  let nextClientId = 1;

  const listener = await listen(options.bind, options.port, (socket) => {
    const client: Client = {
      id: nextClientId++,
      socket,
      parser: new RequestParser(),
      reply: new ReplyWriter(2),
      name: '',
      closeAfterReply: false,
    };
    clients.add(client);
    serveClient(client, log);
    socket.on('close', () => clients.delete(client));
  }, log);

  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return {
    port: listener.port,
    async close() {
      // The listener's close waits for open connections to end, so end them first.
      const closing = listener.close();
      for (const client of clients) client.socket.destroy();
      await closing;
    },
  };
}

function serveClient(client: Client, log: Logger): void {
  const { socket } = client;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  log.debug(`Accepted ${peer}`);
  socket.on('data', (chunk: Buffer) => onData(client, chunk, log));
  socket.on('end', () => socket.end());
  socket.on('error', (err) => log.debug(`Client ${peer} error: ${err.message}`));
  socket.on('close', () => log.debug(`Client closed connection ${peer}`));
}

/**
 * One read from the socket: run every complete request it finished, then send all their
 * replies in one write. A pipelined batch of 100 commands costs one write, not 100.
 */
function onData(client: Client, chunk: Buffer, log: Logger): void {
  if (client.closeAfterReply) return;
  client.parser.feed(chunk);
  try {
    for (let request = client.parser.next(); request !== null; request = client.parser.next()) {
      client.reply.write(execute(client, request));
      if (client.closeAfterReply) break;
    }
  } catch (err) {
    if (err instanceof ProtocolError) {
      // Redis answers a malformed request once, then hangs up: after bad framing, nothing
      // that follows on this connection can be trusted to be a request.
      log.verbose(`Client ${client.id}: ${err.message}`);
      client.reply.error(sanitize(`ERR ${err.message}`)); // the offending byte may be a CR
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

function execute(client: Client, args: string[]): RespValue {
  const name = args[0]!.toLowerCase();
  switch (name) {
    case 'ping':
      if (args.length > 2) return wrongArity(name);
      return args.length === 2 ? bulk(args[1]!) : simple('PONG');
    case 'echo':
      if (args.length !== 2) return wrongArity(name);
      return bulk(args[1]!);
    case 'quit':
      client.closeAfterReply = true;
      return OK;
    case 'hello':
      return hello(client, args);
    case 'command':
      return command(args);
    default:
      return unknownCommand(args);
  }
}

/**
 * HELLO [protover [AUTH username password] [SETNAME name]]: switch the connection to RESP2
 * or RESP3 and describe the server. Clients such as ioredis 6 and node-redis 6 send
 * "HELLO 3" first thing.
 */
function hello(client: Client, args: string[]): RespValue {
  let protocol = client.reply.protocol;
  if (args.length >= 2) {
    const requested = parseInt64(args[1]!);
    if (requested === null) return error('ERR Protocol version is not an integer or out of range');
    if (requested < 2n || requested > 3n) return error('NOPROTO unsupported protocol version');
    protocol = Number(requested) as ProtocolVersion;
  }
  let name: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    const more = args.length - 1 - i;
    if (option === 'auth' && more >= 2) {
      // There are no users or passwords here: the only user is "default", and any
      // password works for it, as on a Redis without requirepass.
      if (args[i + 1] !== 'default') return error('WRONGPASS invalid username-password pair or user is disabled.');
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      name = args[++i]!;
      if (!isValidClientName(name)) return error('ERR Client names cannot contain spaces, newlines or special characters.');
    } else {
      return error(sanitize(`ERR Syntax error in HELLO option '${args[i]}'`));
    }
  }
  if (name !== undefined) client.name = name;
  client.reply.protocol = protocol;
  return map([
    [bulk('server'), bulk('redis')],
    [bulk('version'), bulk(REDIS_VERSION)],
    [bulk('proto'), integer(protocol)],
    [bulk('id'), integer(client.id)],
    [bulk('mode'), bulk('standalone')],
    [bulk('role'), bulk('master')],
    [bulk('modules'), array([])],
  ]);
}

/** Names are printable ASCII without spaces, so CLIENT LIST stays parseable. */
function isValidClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

/**
 * COMMAND, just enough for redis-cli: it asks for the command table and for COMMAND DOCS
 * when it starts, and copes with empty answers. Step 03 builds real ones from its table.
 */
function command(args: string[]): RespValue {
  if (args.length === 1) return array([]);
  const sub = args[1]!.toLowerCase();
  if (sub === 'docs') return map([]);
  if (sub === 'count' && args.length === 2) return integer(0);
  if (sub === 'count') return wrongArity('command|count');
  return error(`ERR unknown subcommand '${args[1]}'. Try COMMAND HELP.`);
}

function wrongArity(name: string): RespValue {
  return error(`ERR wrong number of arguments for '${name}' command`);
}

/** Redis quotes the first arguments, up to about 128 bytes of them, to help debugging. */
function unknownCommand(args: string[]): RespValue {
  let quoted = '';
  for (let i = 1; i < args.length && quoted.length < 128; i++) quoted += `'${args[i]!.slice(0, 128 - quoted.length)}' `;
  return error(sanitize(`ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${quoted}`));
}

/** An error reply is one line: newlines from the client's bytes become spaces. */
function sanitize(message: string): string {
  return message.replace(/[\r\n]/g, ' ');
}

if (isMain(import.meta.url)) {
  await runFromCommandLine(COMMON_FLAGS, startServer);
}
