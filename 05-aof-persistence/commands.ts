// The command table: every command's name, arity, flags and handler, and the one place
// (dispatch) that checks a request against it before running anything.
import type { FsyncPolicy } from '../lib/cli.ts';
import type { Clock } from '../lib/clock.ts';
import { globMatch } from '../lib/glob.ts';
import { INT64_MAX, INT64_MIN, incrByFloat, parseInt64 } from '../lib/numbers.ts';
import {
  NULL_BULK, OK, array, bulk, bulks, error, integer, map, simple, verbatim,
  type ProtocolVersion, type RespValue,
} from '../lib/resp.ts';
import type { AofWriter } from './aof.ts';
import type { Keyspace } from './keyspace.ts';

/** The version of Redis whose replies this server reproduces. */
export const REDIS_VERSION = '7.0.15';

/** The largest string value, as Redis's proto-max-bulk-len. */
const MAX_STRING_BYTES = 512 * 1024 * 1024;

/** What a command may touch: the keyspace, the server, and the client that sent it. */
export interface Context {
  db: Keyspace; // a Map with deadlines (keyspace.ts)
  server: ServerState;
  client: ClientState;
  /**
   * NEW: what a write command asks to be logged instead of the request itself, as Redis's
   * rewriteClientCommandVector does: SET k v EX 10 is logged as SET k v PXAT <deadline>.
   */
  propagateAs?: string[];
}

/** Server-wide facts that INFO and CONFIG GET report. */
export interface ServerState {
  port: number;
  startedAt: number; // Date.now() at start
  runId: string;
  clock: Clock; // where "now" comes from, so tests can move time
  connectedClients: () => number;
  stats: { connectionsReceived: number; commandsProcessed: number; keyspaceHits: number; keyspaceMisses: number };
  /** NEW: receives each change to the dataset, as a command: the AOF (replicas in step 08). */
  propagate: (args: readonly string[]) => void;
  persistence: PersistenceState; // NEW
}

/** NEW: the persistence settings, and the AOF writer when appendonly is on. */
export interface PersistenceState {
  appendonly: boolean;
  appendfsync: FsyncPolicy;
  dir: string; // absolute
  appendfilename: string;
  aof: AofWriter | null;
}

export interface ClientState {
  id: number;
  name: string;
  libName: string;
  libVersion: string;
  protocol: ProtocolVersion;
  closeAfterReply: boolean;
}

type Flag = 'write' | 'readonly' | 'fast' | 'denyoom' | 'admin' | 'noscript' | 'loading' | 'stale';

interface Command {
  /** Positive: exactly this many arguments, the name included. Negative: at least -arity. */
  arity: number;
  flags: readonly Flag[];
  /** Positions of the key arguments: first, last (-1: the last argument), step. */
  keys?: readonly [number, number, number];
  group: string;
  summary: string;
  run: (ctx: Context, args: string[]) => RespValue;
}

/** CONFIG, CLIENT, COMMAND: the second word names the subcommand that runs. */
interface ContainerCommand {
  arity: number;
  flags: readonly Flag[];
  group: string;
  summary: string;
  subcommands: Record<string, Command>;
  /** What the container does with no subcommand, if anything (COMMAND lists the table). */
  alone?: Command['run'];
}

// ---------------------------------------------------------------------------------------
// Dispatch

/** Checks the request against the table, then runs it. Never throws for client errors. */
export function dispatch(ctx: Context, args: string[]): RespValue {
  const name = args[0]!;
  // Clients send "GET" or "get"; the index has both spellings, so the common case costs
  // no lowercase copy of the name.
  const entry = COMMAND_INDEX.get(name) ?? COMMAND_INDEX.get(name.toLowerCase());
  if (entry === undefined) return unknownCommand(args);
  const [canonical, command] = entry;
  if (!arityAllows(command.arity, args.length)) return wrongArity(canonical);
  if ('subcommands' in command) {
    if (args.length === 1) return command.alone?.(ctx, args) ?? wrongArity(canonical);
    const sub = command.subcommands[args[1]!.toLowerCase()];
    if (sub === undefined) {
      return error(sanitize(`ERR unknown subcommand '${args[1]!.slice(0, 128)}'. Try ${canonical.toUpperCase()} HELP.`));
    }
    if (!arityAllows(sub.arity, args.length)) return wrongArity(`${canonical}|${args[1]!.toLowerCase()}`);
    return sub.run(ctx, args);
  }
  // NEW: while the AOF cannot take writes, refuse them rather than acknowledge what would
  // be lost (Redis refuses PING too, so a health check notices). A write that ran is
  // propagated.
  const isWrite = command.flags.includes('write');
  const diskError = ctx.server.persistence.aof?.diskError;
  if (diskError && (isWrite || canonical === 'ping')) return error(`MISCONF Errors writing to the AOF file: ${diskError}`);
  return isWrite ? runAndPropagate(ctx, command, args) : command.run(ctx, args);
}

/** NEW: is there such a command? (The AOF loader stops at one it does not know.) */
export function isCommand(name: string): boolean {
  return COMMAND_INDEX.has(name) || COMMAND_INDEX.has(name.toLowerCase());
}

/**
 * NEW: runs a write command and, if it changed the dataset, propagates it: as it was sent,
 * or as the handler rewrote it. A write that changed nothing (SET NX on an existing key,
 * DEL of a missing key) is never logged.
 */
function runAndPropagate(ctx: Context, command: Command, args: string[]): RespValue {
  const dirtyBefore = ctx.db.dirty;
  ctx.propagateAs = undefined;
  const reply = command.run(ctx, args);
  if (ctx.db.dirty !== dirtyBefore) ctx.server.propagate(ctx.propagateAs ?? args);
  return reply;
}

function arityAllows(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

// ---------------------------------------------------------------------------------------
// Errors, worded as Redis words them

export const ERR = {
  syntax: error('ERR syntax error'),
  notInteger: error('ERR value is not an integer or out of range'),
  notFloat: error('ERR value is not a valid float'),
  overflow: error('ERR increment or decrement would overflow'),
  tooBig: error('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
  dbIndex: error('ERR DB index is out of range'),
};

// Redis names the command in this one: "invalid expire time in 'set' command".
function invalidExpireTime(command: string): RespValue {
  return error(`ERR invalid expire time in '${command}' command`);
}

export function wrongArity(name: string): RespValue {
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

// ---------------------------------------------------------------------------------------
// Strings

// The four ways to say when a key dies: in seconds or milliseconds, from now or at a
// Unix time. Whichever is used, what gets stored is an absolute Unix time in ms.
type ExpireOption = 'EX' | 'PX' | 'EXAT' | 'PXAT';
const EXPIRE_OPTIONS: readonly string[] = ['EX', 'PX', 'EXAT', 'PXAT'];

interface ExpireRequest {
  option: ExpireOption;
  amount: string;
}

/**
 * NEW: parses one expire option at args[i] if it is one and may appear here: only one kind
 * per command (repeating the same kind is allowed: the last amount wins), never together
 * with `excluded` (KEEPTTL or PERSIST), and it needs an amount after it.
 */
function expireOptionAt(args: string[], i: number, option: string, current: ExpireRequest | undefined, excluded: boolean): ExpireRequest | undefined {
  if (!EXPIRE_OPTIONS.includes(option) || excluded || i + 1 >= args.length) return undefined;
  if (current !== undefined && current.option !== option) return undefined;
  return { option: option as ExpireOption, amount: args[i + 1]! };
}

/**
 * NEW: the absolute deadline (Unix ms) an EX/PX/EXAT/PXAT option asks for, or the error
 * Redis gives: the amount must be a positive integer, and the deadline must fit in 64 bits.
 */
function deadlineOf(ctx: Context, { option, amount }: ExpireRequest, command: string): bigint | RespValue {
  const n = parseInt64(amount);
  if (n === null) return ERR.notInteger;
  const inSeconds = option === 'EX' || option === 'EXAT';
  if (n <= 0n || (inSeconds && n > INT64_MAX / 1000n)) return invalidExpireTime(command);
  let deadline = inSeconds ? n * 1000n : n;
  if (option === 'EX' || option === 'PX') deadline += BigInt(ctx.server.clock.now());
  if (deadline > INT64_MAX) return invalidExpireTime(command);
  return deadline;
}

/** SET key value [NX | XX] [GET] [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | KEEPTTL] */
function set(ctx: Context, args: string[]): RespValue {
  const [, key, value] = args as [string, string, string];
  if (args.length === 3) {
    // Plain SET, by far the most common form: no lookup of the old value needed.
    ctx.db.set(key, value);
    return OK;
  }
  let condition: 'NX' | 'XX' | undefined;
  let returnOld = false;
  let expire: ExpireRequest | undefined;
  let keepTtl = false;
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    // Options may repeat; only NX with XX contradicts itself.
    if ((option === 'NX' || option === 'XX') && condition !== (option === 'NX' ? 'XX' : 'NX')) condition = option;
    else if (option === 'GET') returnOld = true;
    // KEEPTTL and the expire options exclude each other.
    else if (option === 'KEEPTTL' && expire === undefined) keepTtl = true;
    else {
      expire = expireOptionAt(args, i++, option, expire, keepTtl);
      if (expire === undefined) return ERR.syntax;
    }
  }
  // A bad expire time is refused before anything is read or written.
  const deadline = expire === undefined ? undefined : deadlineOf(ctx, expire, 'set');
  if (deadline !== undefined && typeof deadline !== 'bigint') return deadline;
  const old = ctx.db.get(key);
  const allowed = condition === undefined || (condition === 'NX') === (old === undefined);
  if (allowed) {
    // A new value forgets the old deadline, unless KEEPTTL asks to keep it. A deadline
    // already in the past is stored all the same (Redis 7.0 does): the key is dead on arrival.
    if (keepTtl) ctx.db.update(key, value);
    else ctx.db.set(key, value);
    if (deadline !== undefined) ctx.db.setDeadline(key, deadline);
    // NEW: a relative expiry is logged as the absolute deadline, so a replay tomorrow gives
    // the key the same deadline, not a fresh one. GET is of no use to a replay: dropped.
    if (deadline !== undefined) ctx.propagateAs = ['SET', key, value, 'PXAT', String(deadline)];
    else if (returnOld) ctx.propagateAs = args.filter((arg, i) => i < 3 || arg.toUpperCase() !== 'GET');
  }
  if (returnOld) return bulk(old ?? null);
  return allowed ? OK : NULL_BULK;
}

/** NEW: SETEX key seconds value, and PSETEX key milliseconds value. */
function setWithExpire(option: 'EX' | 'PX', command: string): Command['run'] {
  return (ctx, [, key, amount, value]) => {
    const deadline = deadlineOf(ctx, { option, amount: amount! }, command);
    if (typeof deadline !== 'bigint') return deadline;
    ctx.db.set(key!, value!);
    ctx.db.setDeadline(key!, deadline);
    ctx.propagateAs = ['SET', key!, value!, 'PXAT', String(deadline)]; // NEW
    return OK;
  };
}

/** NEW: GETEX key [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | PERSIST] */
function getex(ctx: Context, args: string[]): RespValue {
  const key = args[1]!;
  let expire: ExpireRequest | undefined;
  let persist = false;
  for (let i = 2; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    if (option === 'PERSIST' && expire === undefined) persist = true;
    else {
      expire = expireOptionAt(args, i++, option, expire, persist);
      if (expire === undefined) return ERR.syntax;
    }
  }
  const value = lookup(ctx, key);
  if (value === undefined) return NULL_BULK;
  const deadline = expire === undefined ? undefined : deadlineOf(ctx, expire, 'getex');
  if (deadline !== undefined && typeof deadline !== 'bigint') return deadline;
  // An EXAT or PXAT that has already passed deletes the key (after returning its value).
  // NEW: GETEX is never logged as is: as DEL, PEXPIREAT with the absolute deadline, or PERSIST.
  if (deadline !== undefined && isPast(ctx, deadline)) {
    ctx.db.delete(key);
    ctx.propagateAs = ['DEL', key];
  } else if (deadline !== undefined) {
    ctx.db.setDeadline(key, deadline);
    ctx.propagateAs = ['PEXPIREAT', key, String(deadline)];
  } else if (persist) {
    ctx.db.removeDeadline(key);
    ctx.propagateAs = ['PERSIST', key];
  }
  return bulk(value);
}

function get(ctx: Context, [, key]: string[]): RespValue {
  return bulk(lookup(ctx, key!) ?? null);
}

/** Reads a key for a command that reports it, counting hits and misses for INFO. */
function lookup(ctx: Context, key: string): string | undefined {
  const value = ctx.db.get(key);
  if (value === undefined) ctx.server.stats.keyspaceMisses++;
  else ctx.server.stats.keyspaceHits++;
  return value;
}

function setnx(ctx: Context, [, key, value]: string[]): RespValue {
  if (ctx.db.has(key!)) return integer(0);
  ctx.db.set(key!, value!);
  return integer(1);
}

function getset(ctx: Context, [, key, value]: string[]): RespValue {
  const old = ctx.db.get(key!);
  ctx.db.set(key!, value!);
  ctx.propagateAs = ['SET', key!, value!]; // NEW: as Redis logs it
  return bulk(old ?? null);
}

function getdel(ctx: Context, [, key]: string[]): RespValue {
  const old = lookup(ctx, key!);
  if (old !== undefined) ctx.db.delete(key!);
  ctx.propagateAs = ['DEL', key!]; // NEW: as Redis logs it
  return bulk(old ?? null);
}

function mget(ctx: Context, args: string[]): RespValue {
  return bulks(args.slice(1).map((key) => lookup(ctx, key) ?? null));
}

function mset(ctx: Context, args: string[]): RespValue {
  if (args.length % 2 === 0) return wrongArity('mset');
  for (let i = 1; i < args.length; i += 2) ctx.db.set(args[i]!, args[i + 1]!);
  return OK;
}

/** MSETNX sets all the keys, or none of them if any already exists. */
function msetnx(ctx: Context, args: string[]): RespValue {
  if (args.length % 2 === 0) return wrongArity('msetnx');
  for (let i = 1; i < args.length; i += 2) if (ctx.db.has(args[i]!)) return integer(0);
  for (let i = 1; i < args.length; i += 2) ctx.db.set(args[i]!, args[i + 1]!);
  return integer(1);
}

/** INCR, DECR, INCRBY and DECRBY: the value must be a 64-bit integer, and stay one. */
function incrementBy(ctx: Context, key: string, delta: bigint): RespValue {
  const old = ctx.db.get(key);
  const current = old === undefined ? 0n : parseInt64(old);
  if (current === null) return ERR.notInteger;
  const next = current + delta;
  if (next > INT64_MAX || next < INT64_MIN) return ERR.overflow;
  ctx.db.update(key, next.toString()); // update keeps the deadline
  return integer(next);
}

function incrby(ctx: Context, [, key, by]: string[]): RespValue {
  const delta = parseInt64(by!);
  return delta === null ? ERR.notInteger : incrementBy(ctx, key!, delta);
}

function decrby(ctx: Context, [, key, by]: string[]): RespValue {
  const delta = parseInt64(by!);
  if (delta === null) return ERR.notInteger;
  // -INT64_MIN does not fit in 64 bits, so Redis refuses to negate it.
  if (delta === INT64_MIN) return error('ERR decrement would overflow');
  return incrementBy(ctx, key!, -delta);
}

/** INCRBYFLOAT computes in long doubles, as Redis does (see lib/numbers.ts). */
function incrbyfloat(ctx: Context, [, key, by]: string[]): RespValue {
  const result = incrByFloat(ctx.db.get(key!) ?? '0', by!);
  if (!result.ok) return result.reason === 'not-a-float' ? ERR.notFloat : error('ERR increment would produce NaN or Infinity');
  ctx.db.update(key!, result.text); // update keeps the deadline
  // NEW: logged as the result, not the increment: a replay must not depend on how
  // floating-point arithmetic rounds on the machine that replays it.
  ctx.propagateAs = ['SET', key!, result.text, 'KEEPTTL'];
  return bulk(result.text);
}

function append(ctx: Context, [, key, suffix]: string[]): RespValue {
  const old = ctx.db.get(key!) ?? '';
  if (old.length + suffix!.length > MAX_STRING_BYTES) return ERR.tooBig;
  const value = old + suffix!;
  ctx.db.update(key!, value); // update keeps the deadline
  return integer(value.length);
}

function strlen(ctx: Context, [, key]: string[]): RespValue {
  return integer(ctx.db.get(key!)?.length ?? 0);
}

/** GETRANGE key start end: inclusive offsets; negative ones count from the end. */
function getrange(ctx: Context, [, key, startText, endText]: string[]): RespValue {
  // Offsets are any 64-bit integers, so the arithmetic is done in BigInt as Redis does it
  // in long long; only the final, clamped offsets become numbers.
  let start = parseInt64(startText!);
  let end = parseInt64(endText!);
  if (start === null || end === null) return ERR.notInteger;
  const value = ctx.db.get(key!) ?? '';
  const length = BigInt(value.length);
  if (start < 0n && end < 0n && start > end) return bulk('');
  if (start < 0n) start += length;
  if (end < 0n) end += length;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= length) end = length - 1n;
  if (start > end || length === 0n) return bulk('');
  return bulk(value.slice(Number(start), Number(end) + 1));
}

// ---------------------------------------------------------------------------------------
// Keyspace

function del(ctx: Context, args: string[]): RespValue {
  let deleted = 0;
  for (let i = 1; i < args.length; i++) if (ctx.db.delete(args[i]!)) deleted++;
  return integer(deleted);
}

/** EXISTS counts every argument that names a key, so "EXISTS k k" can answer 2. */
function exists(ctx: Context, args: string[]): RespValue {
  let found = 0;
  for (let i = 1; i < args.length; i++) if (ctx.db.has(args[i]!)) found++;
  return integer(found);
}

function keys(ctx: Context, [, pattern]: string[]): RespValue {
  const matching: string[] = [];
  for (const key of ctx.db.keys()) if (pattern === '*' || globMatch(pattern!, key)) matching.push(key);
  return bulks(matching);
}

function flush(ctx: Context, args: string[]): RespValue {
  if (args.length > 2) return ERR.syntax;
  if (args.length === 2 && !['ASYNC', 'SYNC'].includes(args[1]!.toUpperCase())) return ERR.syntax;
  ctx.db.clear();
  return OK;
}

/** There is one database, as in a Redis started with "databases 1". */
function select(_ctx: Context, [, index]: string[]): RespValue {
  const n = parseInt64(index!);
  if (n === null) return ERR.notInteger;
  // Redis reads the index as a C int before it looks at the database count.
  if (n < -(2n ** 31n) || n >= 2n ** 31n) return error('ERR value is out of range, value must between -2147483648 and 2147483647');
  return n === 0n ? OK : ERR.dbIndex;
}

// ---------------------------------------------------------------------------------------
// Expiry

type ExpireCondition = 'NX' | 'XX' | 'GT' | 'LT';

/** EXPIRE's NX | XX | GT | LT, checked the way Redis 7 checks them. */
function expireConditions(args: string[]): Set<ExpireCondition> | RespValue {
  const conditions = new Set<ExpireCondition>();
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    if (option !== 'NX' && option !== 'XX' && option !== 'GT' && option !== 'LT') {
      return error(sanitize(`ERR Unsupported option ${args[i]}`));
    }
    conditions.add(option);
  }
  if (conditions.has('NX') && (conditions.has('XX') || conditions.has('GT') || conditions.has('LT'))) {
    return error('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if (conditions.has('GT') && conditions.has('LT')) return error('ERR GT and LT options at the same time are not compatible');
  return conditions;
}

/** Does the key's current deadline (undefined: none, which counts as infinite) allow `deadline`? */
function conditionsAllow(conditions: Set<ExpireCondition>, current: bigint | undefined, deadline: bigint): boolean {
  if (conditions.has('NX') && current !== undefined) return false;
  if (conditions.has('XX') && current === undefined) return false;
  if (conditions.has('GT') && (current === undefined || deadline <= current)) return false;
  if (conditions.has('LT') && current !== undefined && deadline >= current) return false;
  return true;
}

/**
 * EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key amount [NX | XX | GT | LT]. Negative amounts
 * are allowed; a deadline that is not in the future deletes the key at once.
 */
function expireCommand(unit: 'seconds' | 'milliseconds', from: 'now' | 'epoch', command: string): Command['run'] {
  return (ctx, args) => {
    const key = args[1]!;
    const conditions = expireConditions(args);
    if (!(conditions instanceof Set)) return conditions;
    let deadline = parseInt64(args[2]!);
    if (deadline === null) return ERR.notInteger;
    if (unit === 'seconds') {
      if (deadline > INT64_MAX / 1000n || deadline < INT64_MIN / 1000n) return invalidExpireTime(command);
      deadline *= 1000n;
    }
    const base = from === 'now' ? BigInt(ctx.server.clock.now()) : 0n;
    if (deadline > INT64_MAX - base) return invalidExpireTime(command);
    deadline += base;

    if (!ctx.db.has(key)) return integer(0);
    if (!conditionsAllow(conditions, ctx.db.getDeadline(key), deadline)) return integer(0);
    // NEW: logged as DEL, or as PEXPIREAT with the absolute deadline (and the conditions).
    if (isPast(ctx, deadline)) {
      ctx.db.delete(key);
      ctx.propagateAs = ['DEL', key];
    } else {
      ctx.db.setDeadline(key, deadline);
      ctx.propagateAs = ['PEXPIREAT', key, String(deadline), ...args.slice(3)];
    }
    return integer(1);
  };
}

/**
 * NEW: has this deadline passed? Never while the AOF is replayed: the command was logged
 * when the deadline was ahead, and the replay must do what the command did then.
 */
function isPast(ctx: Context, deadline: bigint): boolean {
  return !ctx.db.loading && deadline <= ctx.server.clock.now();
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no such key, -1 for a key without deadline. */
function timeToLive(unit: 'seconds' | 'milliseconds', as: 'remaining' | 'deadline'): Command['run'] {
  return (ctx, [, key]) => {
    if (lookup(ctx, key!) === undefined) return integer(-2);
    const deadline = ctx.db.getDeadline(key!);
    if (deadline === undefined) return integer(-1);
    let ms = as === 'deadline' ? deadline : deadline - BigInt(ctx.server.clock.now());
    if (ms < 0n) ms = 0n;
    // Seconds are rounded to the nearest: 1.5 s left is "2".
    return integer(unit === 'milliseconds' ? ms : (ms + 500n) / 1000n);
  };
}

function persist(ctx: Context, [, key]: string[]): RespValue {
  if (!ctx.db.has(key!)) return integer(0);
  return integer(ctx.db.removeDeadline(key!) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------
// Connection

function ping(_ctx: Context, args: string[]): RespValue {
  if (args.length > 2) return wrongArity('ping');
  return args.length === 2 ? bulk(args[1]!) : simple('PONG');
}

function quit(ctx: Context): RespValue {
  ctx.client.closeAfterReply = true;
  return OK;
}

/** HELLO [protover [AUTH username password] [SETNAME name]]: choose RESP2 or RESP3. */
function hello(ctx: Context, args: string[]): RespValue {
  let protocol = ctx.client.protocol;
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
  if (name !== undefined) ctx.client.name = name;
  ctx.client.protocol = protocol;
  return map([
    [bulk('server'), bulk('redis')],
    [bulk('version'), bulk(REDIS_VERSION)],
    [bulk('proto'), integer(protocol)],
    [bulk('id'), integer(ctx.client.id)],
    [bulk('mode'), bulk('standalone')],
    [bulk('role'), bulk('master')],
    [bulk('modules'), array([])],
  ]);
}

/** Names are printable ASCII without spaces, so CLIENT LIST stays parseable. */
function isValidClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

function clientSetname(ctx: Context, [, , name]: string[]): RespValue {
  if (!isValidClientName(name!)) return error('ERR Client names cannot contain spaces, newlines or special characters.');
  ctx.client.name = name!;
  return OK;
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value: what client libraries say about themselves. */
function clientSetinfo(ctx: Context, [, , attribute, value]: string[]): RespValue {
  const attr = attribute!.toLowerCase();
  if (attr !== 'lib-name' && attr !== 'lib-ver') return error(sanitize(`ERR Unrecognized option '${attribute}'`));
  if (!isValidClientName(value!)) return error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  if (attr === 'lib-name') ctx.client.libName = value!;
  else ctx.client.libVersion = value!;
  return OK;
}

// ---------------------------------------------------------------------------------------
// Server

/** INFO [section ...]: "key:value" lines under "# Section" headers. */
function info(ctx: Context, args: string[]): RespValue {
  const requested = args.slice(1).map((s) => s.toLowerCase());
  const all = requested.length === 0 || requested.some((s) => s === 'all' || s === 'default' || s === 'everything');
  const sections = INFO_SECTIONS.filter(([name]) => all || requested.includes(name.toLowerCase()));
  const text = sections
    .map(([name, fields]) => `# ${name}\r\n` + fields(ctx).map(([k, v]) => `${k}:${v}\r\n`).join(''))
    .join('\r\n');
  return verbatim(text);
}

const INFO_SECTIONS: Array<[string, (ctx: Context) => Array<[string, string | number]>]> = [
  ['Server', ({ server }) => [
    ['redis_version', REDIS_VERSION],
    ['redis_mode', 'standalone'],
    ['os', `${process.platform} ${process.arch}`],
    ['arch_bits', 64],
    ['process_id', process.pid],
    ['run_id', server.runId],
    ['tcp_port', server.port],
    ['uptime_in_seconds', Math.floor((Date.now() - server.startedAt) / 1000)],
    ['uptime_in_days', Math.floor((Date.now() - server.startedAt) / 86_400_000)],
    ['executable', process.argv[1] ?? ''],
  ]],
  ['Clients', ({ server }) => [
    ['connected_clients', server.connectedClients()],
    ['blocked_clients', 0],
  ]],
  ['Memory', () => [
    ['used_memory', process.memoryUsage().heapUsed],
    ['used_memory_rss', process.memoryUsage().rss],
    ['maxmemory', 0],
    ['maxmemory_policy', 'noeviction'],
  ]],
  // NEW: the AOF's state. aof_last_write_status turns to err while writes are refused.
  ['Persistence', ({ server }) => [
    ['loading', 0],
    ['rdb_changes_since_last_save', 0],
    ['aof_enabled', server.persistence.aof === null ? 0 : 1],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0],
    ['aof_last_write_status', server.persistence.aof?.diskError ? 'err' : 'ok'],
    ...(server.persistence.aof?.info() ?? []),
  ]],
  ['Stats', ({ server, db }) => [
    ['total_connections_received', server.stats.connectionsReceived],
    ['total_commands_processed', server.stats.commandsProcessed],
    ['keyspace_hits', server.stats.keyspaceHits],
    ['keyspace_misses', server.stats.keyspaceMisses],
    ['expired_keys', db.expiredKeys],
    ['expired_time_cap_reached_count', db.timeCapReached],
    ['evicted_keys', 0],
  ]],
  ['Replication', () => [
    ['role', 'master'],
    ['connected_slaves', 0],
  ]],
  // How many keys have a deadline, and the estimated time they have left.
  ['Keyspace', ({ db }) => (db.size > 0 ? [['db0', `keys=${db.size},expires=${db.expiresCount},avg_ttl=${db.averageTtl}`]] : [])],
];

/** The settings CONFIG GET reports: those clients and tools ask about at connect time. */
function configValues(ctx: Context): Array<[string, string]> {
  return [
    ['port', String(ctx.server.port)],
    ['bind', '127.0.0.1 ::1'],
    ['databases', '1'],
    ['save', ''],
    // NEW: the persistence settings.
    ['appendonly', ctx.server.persistence.appendonly ? 'yes' : 'no'],
    ['appendfsync', ctx.server.persistence.appendfsync],
    ['dir', ctx.server.persistence.dir],
    ['appendfilename', ctx.server.persistence.appendfilename],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['timeout', '0'],
    ['proto-max-bulk-len', String(MAX_STRING_BYTES)],
  ];
}

/**
 * CONFIG GET pattern [pattern ...]: name/value pairs, a map in RESP3. A pattern without
 * glob characters is a case-insensitive name, and Redis replies with it as it was sent.
 */
function configGet(ctx: Context, args: string[]): RespValue {
  const values = configValues(ctx);
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
function commandList(): RespValue {
  return array(Object.entries(COMMANDS).map(([name, command]) => commandInfo(name, command)));
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
function commandDocs(_ctx: Context, args: string[]): RespValue {
  const names = args.length > 2 ? args.slice(2).map((n) => n.toLowerCase()) : Object.keys(COMMANDS);
  const known = names.filter((n) => COMMANDS[n] !== undefined);
  return map(known.map((n) => [
    bulk(n),
    map([
      [bulk('summary'), bulk(COMMANDS[n]!.summary)],
      [bulk('since'), bulk('1.0.0')],
      [bulk('group'), bulk(COMMANDS[n]!.group)],
    ]),
  ]));
}

function commandInfoOf(_ctx: Context, args: string[]): RespValue {
  return array(args.slice(2).map((n) => {
    const command = COMMANDS[n.toLowerCase()];
    return command === undefined ? array(null) : commandInfo(n.toLowerCase(), command);
  }));
}

/** HELP for a container command, built from its subcommands' summaries. */
function helpFor(container: string): Command {
  return {
    arity: 2, flags: ['loading', 'stale'], group: 'server', summary: 'Show helpful text about the different subcommands',
    run: () => {
      const subcommands = (COMMANDS[container] as ContainerCommand).subcommands;
      const lines = [`${container.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`];
      for (const [name, sub] of Object.entries(subcommands)) lines.push(name.toUpperCase(), `    ${sub.summary}`);
      return array(lines.map((l) => simple(l)));
    },
  };
}

// ---------------------------------------------------------------------------------------
// The table

const read = (group: string, summary: string, arity: number, run: Command['run']): Command =>
  ({ arity, flags: ['readonly', 'fast'], keys: [1, 1, 1], group, summary, run });
const write = (group: string, summary: string, arity: number, run: Command['run']): Command =>
  ({ arity, flags: ['write', 'denyoom'], keys: [1, 1, 1], group, summary, run });
const other = (group: string, summary: string, arity: number, run: Command['run'], flags: readonly Flag[] = ['fast']): Command =>
  ({ arity, flags, group, summary, run });

export const COMMANDS: Record<string, Command | ContainerCommand> = {
  get: read('string', 'Get the value of a key', 2, get),
  set: write('string', 'Set the string value of a key', -3, set),
  setnx: write('string', 'Set the value of a key, only if the key does not exist', 3, setnx),
  getset: write('string', 'Set the value of a key and return its old value', 3, getset),
  getdel: write('string', 'Get the value of a key and delete the key', 2, getdel),
  // The expiry commands.
  setex: write('string', 'Set the value and expiration of a key', 4, setWithExpire('EX', 'setex')),
  psetex: write('string', 'Set the value and expiration in milliseconds of a key', 4, setWithExpire('PX', 'psetex')),
  getex: { ...write('string', 'Get the value of a key and optionally set its expiration', -2, getex), flags: ['write', 'fast'] },
  expire: { ...write('keyspace', 'Set a key\'s time to live in seconds', -3, expireCommand('seconds', 'now', 'expire')), flags: ['write', 'fast'] },
  pexpire: { ...write('keyspace', 'Set a key\'s time to live in milliseconds', -3, expireCommand('milliseconds', 'now', 'pexpire')), flags: ['write', 'fast'] },
  expireat: { ...write('keyspace', 'Set the expiration for a key as a UNIX timestamp', -3, expireCommand('seconds', 'epoch', 'expireat')), flags: ['write', 'fast'] },
  pexpireat: { ...write('keyspace', 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', -3, expireCommand('milliseconds', 'epoch', 'pexpireat')), flags: ['write', 'fast'] },
  ttl: read('keyspace', 'Get the time to live for a key in seconds', 2, timeToLive('seconds', 'remaining')),
  pttl: read('keyspace', 'Get the time to live for a key in milliseconds', 2, timeToLive('milliseconds', 'remaining')),
  expiretime: read('keyspace', 'Get the expiration Unix timestamp for a key', 2, timeToLive('seconds', 'deadline')),
  pexpiretime: read('keyspace', 'Get the expiration Unix timestamp for a key in milliseconds', 2, timeToLive('milliseconds', 'deadline')),
  persist: { ...write('keyspace', 'Remove the expiration from a key', 2, persist), flags: ['write', 'fast'] },
  mget: { ...read('string', 'Get the values of all the given keys', -2, mget), keys: [1, -1, 1] },
  mset: { ...write('string', 'Set multiple keys to multiple values', -3, mset), keys: [1, -1, 2] },
  msetnx: { ...write('string', 'Set multiple keys to multiple values, only if none of the keys exist', -3, msetnx), keys: [1, -1, 2] },
  incr: write('string', 'Increment the integer value of a key by one', 2, (ctx, [, key]) => incrementBy(ctx, key!, 1n)),
  decr: write('string', 'Decrement the integer value of a key by one', 2, (ctx, [, key]) => incrementBy(ctx, key!, -1n)),
  incrby: write('string', 'Increment the integer value of a key by the given amount', 3, incrby),
  decrby: write('string', 'Decrement the integer value of a key by the given number', 3, decrby),
  incrbyfloat: write('string', 'Increment the float value of a key by the given amount', 3, incrbyfloat),
  append: write('string', 'Append a value to a key', 3, append),
  strlen: read('string', 'Get the length of the value stored in a key', 2, strlen),
  getrange: read('string', 'Get a substring of the string stored at a key', 4, getrange),
  del: { ...write('keyspace', 'Delete a key', -2, del), keys: [1, -1, 1] },
  exists: { ...read('keyspace', 'Determine if a key exists', -2, exists), keys: [1, -1, 1] },
  keys: other('keyspace', 'Find all keys matching the given pattern', 2, keys, ['readonly']),
  dbsize: other('server', 'Return the number of keys in the selected database', 1, (ctx) => integer(ctx.db.size), ['readonly', 'fast']),
  flushdb: other('server', 'Remove all keys from the current database', -1, flush, ['write']),
  flushall: other('server', 'Remove all keys from all databases', -1, flush, ['write']),
  select: other('connection', 'Change the selected database for the current connection', 2, select, ['loading', 'stale', 'fast']),
  ping: other('connection', 'Ping the server', -1, ping),
  echo: other('connection', 'Echo the given string', 2, (_ctx, [, message]) => bulk(message!)),
  quit: other('connection', 'Close the connection', -1, quit),
  hello: other('connection', 'Handshake with Redis', -1, hello, ['noscript', 'loading', 'stale', 'fast']),
  info: other('server', 'Get information and statistics about the server', -1, info, ['loading', 'stale']),
  config: {
    arity: -2, flags: [], group: 'server', summary: 'A container for server configuration commands',
    subcommands: {
      get: other('server', 'Get the values of configuration parameters', -3, configGet, ['admin', 'noscript', 'loading', 'stale']),
      help: helpFor('config'),
    },
  },
  client: {
    arity: -2, flags: [], group: 'connection', summary: 'A container for client connection commands',
    subcommands: {
      id: other('connection', 'Returns the client ID for the current connection', 2, (ctx) => integer(ctx.client.id)),
      getname: other('connection', 'Get the current connection name', 2, (ctx) => bulk(ctx.client.name || null)),
      setname: other('connection', 'Set the current connection name', 3, clientSetname),
      setinfo: other('connection', 'Set client or connection specific info', 4, clientSetinfo),
      help: helpFor('client'),
    },
  },
  command: {
    arity: -1, flags: ['loading', 'stale'], group: 'server', summary: 'Get array of Redis command details',
    alone: commandList,
    subcommands: {
      count: other('server', 'Get total number of Redis commands', 2, () => integer(Object.keys(COMMANDS).length)),
      docs: other('server', 'Get array of specific Redis command documentation', -2, commandDocs),
      info: other('server', 'Get array of specific Redis command details, or all when no argument is given', -2, commandInfoOf),
      help: helpFor('command'),
    },
  },
};

/** Each command under its lowercase and uppercase name, for dispatch. */
const COMMAND_INDEX = new Map<string, [string, Command | ContainerCommand]>(
  Object.entries(COMMANDS).flatMap(([name, command]) => [
    [name, [name, command]],
    [name.toUpperCase(), [name, command]],
  ]),
);
