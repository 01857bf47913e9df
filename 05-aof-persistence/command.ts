// 03: what a command is: its arity, flags and handler; how a family of commands (strings.ts,
// keys.ts, ...) presents itself to the server; and the errors, worded as Redis words them.
// Every family imports this; the table that gathers them is commands.ts. 05: and call(),
// which runs a checked command and propagates what it changed: here, because processCommand
// (commands.ts) and EXEC (transactions.ts) both run it, and commands.ts imports every family.
import { error, type RespValue } from '../lib/resp.ts';
import type { Client, Server } from './server.ts';

export type CommandFlag = 'write' | 'readonly' | 'fast' | 'denyoom' | 'admin' | 'noscript' | 'loading' | 'stale';

export interface Command {
  /** Positive: exactly this many arguments, the name included. Negative: at least -arity. */
  arity: number;
  flags: readonly CommandFlag[];
  /** Positions of the key arguments: first, last (-1: the last argument), step. */
  keys?: readonly [number, number, number];
  group: string;
  summary: string;
  run: (c: Client, args: string[]) => RespValue;
}

/** CONFIG, CLIENT, COMMAND: the second word names the subcommand that runs. */
export interface ContainerCommand {
  arity: number;
  flags: readonly CommandFlag[];
  group: string;
  summary: string;
  subcommands: Record<string, Command>;
  /** What the container does with no subcommand, if anything (COMMAND lists the table). */
  alone?: Command['run'];
}

/** An INFO section's "name:value" lines. */
export type InfoFields = (server: Server) => Array<[string, string | number]>;

/**
 * What a family of commands brings to the server, as a file of Redis's source does: its
 * commands, the INFO fields it reports, and the CONFIG parameters it owns. A step that adds
 * a feature adds a family; nothing else needs editing to make INFO or CONFIG GET show it.
 */
export interface CommandFamily {
  commands: Record<string, Command | ContainerCommand>;
  /** Fields per INFO section ("Server", "Stats", ...), in the order INFO prints them. */
  info?: Record<string, InfoFields>;
  /** CONFIG GET parameters: name -> current value. */
  config?: Record<string, (server: Server) => string>;
}

// The builders the tables are written with: the flags and key positions Redis gives most
// commands of each kind.
export const read = (group: string, summary: string, arity: number, run: Command['run']): Command =>
  ({ arity, flags: ['readonly', 'fast'], keys: [1, 1, 1], group, summary, run });
export const write = (group: string, summary: string, arity: number, run: Command['run']): Command =>
  ({ arity, flags: ['write', 'denyoom'], keys: [1, 1, 1], group, summary, run });
export const other = (group: string, summary: string, arity: number, run: Command['run'], flags: readonly CommandFlag[] = ['fast']): Command =>
  ({ arity, flags, group, summary, run });

/**
 * 05: runs a command that passed every check (Redis's call()), for a client or for EXEC.
 * If it changed the dataset it is propagated: as it was sent, or as the handler rewrote it
 * (SET k v EX 10 as SET k v PXAT <deadline>). A write that changed nothing (SET NX on an
 * existing key, DEL of a missing key) is never propagated.
 */
export function call(c: Client, command: Command, args: string[]): RespValue {
  if (!command.flags.includes('write')) return command.run(c, args);
  const dirtyBefore = c.db.dirty;
  c.propagateAs = undefined;
  const reply = command.run(c, args);
  if (c.db.dirty !== dirtyBefore) c.server.propagate(c.propagateAs ?? args);
  return reply;
}

// ---------------------------------------------------------------------------------------
// Errors, worded as Redis words them

export type ErrorReply = Extract<RespValue, { type: 'error' }>;
const errorReply = (message: string): ErrorReply => ({ type: 'error', message });

export const ERR = {
  syntax: error('ERR syntax error'),
  notInteger: error('ERR value is not an integer or out of range'),
  notFloat: error('ERR value is not a valid float'),
  overflow: error('ERR increment or decrement would overflow'),
  tooBig: error('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
  dbIndex: error('ERR DB index is out of range'),
};

export function wrongArity(name: string): ErrorReply {
  return errorReply(`ERR wrong number of arguments for '${name}' command`);
}

/** Redis quotes the first arguments, up to about 128 bytes of them, to help debugging. */
export function unknownCommand(args: string[]): ErrorReply {
  let quoted = '';
  for (let i = 1; i < args.length && quoted.length < 128; i++) quoted += `'${args[i]!.slice(0, 128 - quoted.length)}' `;
  return errorReply(sanitize(`ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${quoted}`));
}

export function unknownSubcommand(container: string, sub: string): ErrorReply {
  return errorReply(sanitize(`ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`));
}

/** An error reply is one line: newlines from the client's bytes become spaces. */
export function sanitize(message: string): string {
  return message.replace(/[\r\n]/g, ' ');
}
