// 03: the command table, gathered from the families (one file each, as Redis's t_string.c,
// db.c, networking.c, server.c), and processCommand: the one place that checks a request
// against the table before anything runs.
import type { RespValue } from '../lib/resp.ts';
import { unknownCommand, unknownSubcommand, wrongArity, type Command, type CommandFamily, type ContainerCommand, type ErrorReply } from './command.ts';
import { connection } from './connection.ts';
import { expire } from './expire.ts'; // 04
import { introspection } from './introspection.ts';
import { keyspace } from './keys.ts';
import type { Client } from './server.ts';
import { strings } from './strings.ts';

/**
 * Every family of commands this server has. INFO prints their fields in this order, which
 * is Redis's (total_commands_processed, then expired_keys, then keyspace_hits).
 */
export const FAMILIES: readonly CommandFamily[] = [
  connection,
  strings,
  expire, // 04
  introspection,
  keyspace,
];

export const COMMANDS: Record<string, Command | ContainerCommand> = Object.assign({}, ...FAMILIES.map((f) => f.commands));

/** A request's command, found in the table: its canonical name ("config|get") and entry. */
interface Found {
  type: 'command';
  name: string;
  command: Command;
}

/** Each entry under its lowercase and uppercase name, for dispatch. */
const COMMAND_INDEX = new Map<string, Found | { type: 'container'; name: string; container: ContainerCommand }>(
  Object.entries(COMMANDS).flatMap(([name, entry]) => {
    // Made once here, so looking up a plain command allocates nothing.
    const indexed = 'subcommands' in entry
      ? { type: 'container' as const, name, container: entry }
      : { type: 'command' as const, name, command: entry };
    return [[name, indexed], [name.toUpperCase(), indexed]];
  }),
);

/** Checks the request against the table, then runs it. Never throws for client errors. */
export function processCommand(c: Client, args: string[]): RespValue {
  const found = lookupCommand(args);
  if (found.type === 'error') return found;
  return found.command.run(c, args);
}

/** The command a request names, its subcommand resolved, or the error Redis gives. */
function lookupCommand(args: string[]): Found | ErrorReply {
  // Clients send "GET" or "get"; the index has both spellings, so the common case costs
  // no lowercase copy of the name.
  const indexed = COMMAND_INDEX.get(args[0]!) ?? COMMAND_INDEX.get(args[0]!.toLowerCase());
  if (indexed === undefined) return unknownCommand(args);
  if (indexed.type === 'command') {
    return arityAllows(indexed.command.arity, args.length) ? indexed : wrongArity(indexed.name);
  }
  const { name, container } = indexed;
  if (!arityAllows(container.arity, args.length)) return wrongArity(name);
  if (args.length === 1) {
    if (container.alone === undefined) return wrongArity(name);
    return { type: 'command', name, command: { ...container, run: container.alone } };
  }
  const sub = container.subcommands[args[1]!.toLowerCase()];
  if (sub === undefined) return unknownSubcommand(name, args[1]!);
  const fullName = `${name}|${args[1]!.toLowerCase()}`;
  return arityAllows(sub.arity, args.length) ? { type: 'command', name: fullName, command: sub } : wrongArity(fullName);
}

function arityAllows(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}
