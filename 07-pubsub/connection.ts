// 03: the connection commands (Redis's networking.c and server.c): PING, ECHO, QUIT, HELLO,
// which picks RESP2 or RESP3, and CLIENT, which names the connection.
import { parseInt64 } from '../lib/numbers.ts';
import { OK, array, bulk, error, integer, map, simple, type ProtocolVersion, type RespValue } from '../lib/resp.ts';
import { other, sanitize, wrongArity, type CommandFamily } from './command.ts';
import { helpFor } from './introspection.ts';
import type { Client } from './server.ts';
import { REDIS_VERSION } from './version.ts';

// 07: a subscribed RESP2 connection carries arrays: PING's answer is one too.
function ping(c: Client, args: string[]): RespValue {
  if (args.length > 2) return wrongArity('ping');
  if (c.protocol === 2 && c.subscriptions.count > 0) return array([bulk('pong'), bulk(args[1] ?? '')]); // 07
  return args.length === 2 ? bulk(args[1]!) : simple('PONG');
}

function quit(c: Client): RespValue {
  c.closeAfterReply = true;
  return OK;
}

/** HELLO [protover [AUTH username password] [SETNAME name]]: choose RESP2 or RESP3. */
function hello(c: Client, args: string[]): RespValue {
  let protocol = c.protocol;
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
      // There are no passwords here: the only user is "default", and any password works
      // for it, as on a Redis without requirepass.
      if (args[i + 1] !== 'default') return error('WRONGPASS invalid username-password pair or user is disabled.');
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      name = args[++i]!;
      if (!isValidClientName(name)) return error('ERR Client names cannot contain spaces, newlines or special characters.');
    } else {
      return error(sanitize(`ERR Syntax error in HELLO option '${args[i]}'`));
    }
  }
  if (name !== undefined) c.name = name;
  c.protocol = protocol;
  return map([
    [bulk('server'), bulk('redis')],
    [bulk('version'), bulk(REDIS_VERSION)],
    [bulk('proto'), integer(protocol)],
    [bulk('id'), integer(c.id)],
    [bulk('mode'), bulk('standalone')],
    [bulk('role'), bulk('master')],
    [bulk('modules'), array([])],
  ]);
}

/** Names are printable ASCII without spaces, so CLIENT LIST stays parseable. */
function isValidClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

function clientSetname(c: Client, [, , name]: string[]): RespValue {
  if (!isValidClientName(name!)) return error('ERR Client names cannot contain spaces, newlines or special characters.');
  c.name = name!;
  return OK;
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value: what client libraries say about themselves. */
function clientSetinfo(c: Client, [, , attribute, value]: string[]): RespValue {
  const attr = attribute!.toLowerCase();
  if (attr !== 'lib-name' && attr !== 'lib-ver') return error(sanitize(`ERR Unrecognized option '${attribute}'`));
  if (!isValidClientName(value!)) return error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  if (attr === 'lib-name') c.libName = value!;
  else c.libVersion = value!;
  return OK;
}

export const connection: CommandFamily = {
  commands: {
    ping: other('connection', 'Ping the server', -1, ping),
    echo: other('connection', 'Echo the given string', 2, (_c, [, message]) => bulk(message!)),
    quit: other('connection', 'Close the connection', -1, quit),
    hello: other('connection', 'Handshake with Redis', -1, hello, ['noscript', 'loading', 'stale', 'fast']),
    client: {
      arity: -2, flags: [], group: 'connection', summary: 'A container for client connection commands',
      subcommands: {
        id: other('connection', 'Returns the client ID for the current connection', 2, (c) => integer(c.id)),
        getname: other('connection', 'Get the current connection name', 2, (c) => bulk(c.name || null)),
        setname: other('connection', 'Set the current connection name', 3, clientSetname),
        setinfo: other('connection', 'Set client or connection specific info', 4, clientSetinfo),
        help: helpFor('client'),
      },
    },
  },
  info: {
    Clients: ({ net }) => [
      ['connected_clients', net.clients.size],
      ['blocked_clients', 0],
    ],
    Stats: ({ net }) => [
      ['total_connections_received', net.connectionsReceived],
      ['total_commands_processed', net.commandsProcessed],
    ],
  },
};
