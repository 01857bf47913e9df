// 03: the server describing itself (Redis's server.c and config.c): INFO, CONFIG GET and
// COMMAND. Each family registers its own INFO fields and CONFIG parameters (command.ts's
// CommandFamily); this file prints what they registered. It reads the table through the
// server (c.server.commands, as Redis's server.commands), not by importing commands.ts:
// commands.ts imports every family, this one included, and a loop of imports breaks at load.
import { globMatch } from '../lib/glob.ts';
import { array, bulk, integer, map, simple, verbatim, type RespValue } from '../lib/resp.ts';
import { other, type Command, type CommandFamily, type ContainerCommand } from './command.ts';
import type { Client } from './server.ts';
import { MAX_STRING_BYTES } from './strings.ts';
import { REDIS_VERSION } from './version.ts';

/** INFO's sections, in the order Redis prints them. */
const INFO_SECTIONS = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'Keyspace'];

/** INFO [section ...]: "key:value" lines under "# Section" headers. */
function info(c: Client, args: string[]): RespValue {
  const requested = args.slice(1).map((s) => s.toLowerCase());
  const all = requested.length === 0 || requested.some((s) => s === 'all' || s === 'default' || s === 'everything');
  const text = INFO_SECTIONS
    .filter((section) => all || requested.includes(section.toLowerCase()))
    .map((section) => `# ${section}\r\n` + infoFields(c, section).map(([k, v]) => `${k}:${v}\r\n`).join(''))
    .join('\r\n');
  return verbatim(text);
}

/** A section's fields: those of every family that registered some, in family order. */
function infoFields(c: Client, section: string): Array<[string, string | number]> {
  return c.server.families.flatMap((family) => family.info?.[section]?.(c.server) ?? []);
}

/**
 * CONFIG GET pattern [pattern ...]: name/value pairs, a map in RESP3. A pattern without
 * glob characters is a case-insensitive name, and Redis replies with it as it was sent.
 */
function configGet(c: Client, args: string[]): RespValue {
  const values = c.server.families.flatMap((family) => Object.entries(family.config ?? {}).map(([name, get]) => [name, get(c.server)] as const));
  const matches = new Map<string, [string, string]>(); // canonical name -> [name as replied, value]
  for (const pattern of args.slice(2)) {
    if (!/[[*?]/.test(pattern)) {
      const found = values.find(([name]) => name === pattern.toLowerCase());
      if (found !== undefined && !matches.has(found[0])) matches.set(found[0], [pattern, found[1]]);
      continue;
    }
    for (const [name, value] of values) {
      if (!matches.has(name) && globMatch(pattern, name, true)) matches.set(name, [name, value]);
    }
  }
  return map([...matches.values()].map(([name, value]) => [bulk(name), bulk(value)]));
}

/** COMMAND with no arguments: the whole table, in Redis 7's ten-field layout. */
function commandList(c: Client): RespValue {
  return array(Object.entries(c.server.commands).map(([name, command]) => commandInfo(name, command)));
}

function commandInfo(name: string, command: Command | ContainerCommand): RespValue {
  const [first, last, step] = ('keys' in command && command.keys) || [0, 0, 0];
  const subcommands = 'subcommands' in command
    ? Object.entries(command.subcommands).map(([sub, c]) => commandInfo(`${name}|${sub}`, c))
    : [];
  return array([
    bulk(name),
    integer(command.arity),
    { type: 'set', items: command.flags.map((f) => simple(f)) },
    integer(first),
    integer(last),
    integer(step),
    { type: 'set', items: [] }, // ACL categories
    { type: 'set', items: [] }, // tips
    array([]), // key specs
    array(subcommands),
  ]);
}

/** COMMAND DOCS [name ...]: summaries, which redis-cli shows as hints while you type. */
function commandDocs(c: Client, args: string[]): RespValue {
  const { commands } = c.server;
  const names = args.length > 2 ? args.slice(2).map((n) => n.toLowerCase()) : Object.keys(commands);
  const known = names.filter((n) => commands[n] !== undefined);
  return map(known.map((n) => [
    bulk(n),
    map([
      [bulk('summary'), bulk(commands[n]!.summary)],
      [bulk('since'), bulk('1.0.0')],
      [bulk('group'), bulk(commands[n]!.group)],
    ]),
  ]));
}

function commandInfoOf(c: Client, args: string[]): RespValue {
  return array(args.slice(2).map((n) => {
    const command = c.server.commands[n.toLowerCase()];
    return command === undefined ? array(null) : commandInfo(n.toLowerCase(), command);
  }));
}

/** HELP for a container command, built from its subcommands' summaries. */
export function helpFor(container: string): Command {
  return {
    arity: 2, flags: ['loading', 'stale'], group: 'server', summary: 'Show helpful text about the different subcommands',
    run: (c) => {
      const subcommands = (c.server.commands[container] as ContainerCommand).subcommands;
      const lines = [`${container.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`];
      for (const [name, sub] of Object.entries(subcommands)) lines.push(name.toUpperCase(), `    ${sub.summary}`);
      return array(lines.map((l) => simple(l)));
    },
  };
}

export const introspection: CommandFamily = {
  commands: {
    info: other('server', 'Get information and statistics about the server', -1, info, ['loading', 'stale']),
    config: {
      arity: -2, flags: [], group: 'server', summary: 'A container for server configuration commands',
      subcommands: {
        get: other('server', 'Get the values of configuration parameters', -3, configGet, ['admin', 'noscript', 'loading', 'stale']),
        help: helpFor('config'),
      },
    },
    command: {
      arity: -1, flags: ['loading', 'stale'], group: 'server', summary: 'Get array of Redis command details',
      alone: commandList,
      subcommands: {
        count: other('server', 'Get total number of Redis commands', 2, (c) => integer(Object.keys(c.server.commands).length)),
        docs: other('server', 'Get array of specific Redis command documentation', -2, commandDocs),
        info: other('server', 'Get array of specific Redis command details, or all when no argument is given', -2, commandInfoOf),
        help: helpFor('command'),
      },
    },
  },
  info: {
    Server: (server) => [
      ['redis_version', REDIS_VERSION],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', 64],
      ['process_id', process.pid],
      ['run_id', server.runId],
      ['tcp_port', server.port],
      ['uptime_in_seconds', Math.floor(server.uptimeMs() / 1000)],
      ['uptime_in_days', Math.floor(server.uptimeMs() / 86_400_000)],
      ['executable', process.argv[1] ?? ''],
    ],
    Memory: () => [
      ['used_memory', process.memoryUsage().heapUsed],
      ['used_memory_rss', process.memoryUsage().rss],
      ['maxmemory', 0],
      ['maxmemory_policy', 'noeviction'],
    ],
    // The server listens only once its data is loaded, so a client always sees loading:0
    // (ioredis waits for it before its first command).
    Persistence: () => [
      ['loading', 0],
      ['rdb_changes_since_last_save', 0],
      // 05: aof_enabled comes from persistence.ts, with the other AOF fields.
    ],
    Stats: () => [
      // 04: expired_keys comes from expire.ts, which counts them.
      ['evicted_keys', 0],
    ],
    Replication: () => [
      ['role', 'master'],
      ['connected_slaves', 0],
    ],
  },
  // The settings clients and tools ask about at connect time (redis-benchmark reads save
  // and appendonly before it starts).
  config: {
    port: (server) => String(server.port),
    bind: (server) => server.bind.join(' '),
    databases: () => '1',
    save: () => '',
    // 05: appendonly comes from persistence.ts, with the other AOF parameters.
    maxmemory: () => '0',
    'maxmemory-policy': () => 'noeviction',
    timeout: () => '0',
    'proto-max-bulk-len': () => String(MAX_STRING_BYTES),
  },
};
