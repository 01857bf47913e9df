// 04: the expiry commands (Redis's expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL,
// PTTL, EXPIRETIME, PEXPIRETIME and PERSIST, and the deadline arithmetic SET's EX/PX/EXAT/
// PXAT options share with them. Deadlines are absolute Unix milliseconds, in BigInt: Redis
// computes them in 64-bit integers, and its overflow errors must trigger at the same values.
import { INT64_MAX, INT64_MIN, parseInt64 } from '../lib/numbers.ts';
import { error, integer, type RespValue } from '../lib/resp.ts';
import { ERR, read, sanitize, write, type Command, type CommandFamily } from './command.ts';
import { lookupKeyRead } from './keys.ts';
import type { Client } from './server.ts';

// Redis names the command in this one: "invalid expire time in 'set' command".
function invalidExpireTime(command: string): RespValue {
  return error(`ERR invalid expire time in '${command}' command`);
}

// The four ways to say when a key dies: in seconds or milliseconds, from now or at a Unix
// time. Whichever is used, what gets stored is an absolute Unix time in ms.
type ExpireOption = 'EX' | 'PX' | 'EXAT' | 'PXAT';
const EXPIRE_OPTIONS: readonly string[] = ['EX', 'PX', 'EXAT', 'PXAT'];

export interface ExpireRequest {
  option: ExpireOption;
  amount: string;
}

/**
 * Parses one expire option at args[i] if it is one and may appear here: only one kind per
 * command (repeating the same kind is allowed: the last amount wins), never together with
 * `excluded` (KEEPTTL or PERSIST), and it needs an amount after it.
 */
export function expireOptionAt(args: string[], i: number, option: string, current: ExpireRequest | undefined, excluded: boolean): ExpireRequest | undefined {
  if (!EXPIRE_OPTIONS.includes(option) || excluded || i + 1 >= args.length) return undefined;
  if (current !== undefined && current.option !== option) return undefined;
  return { option: option as ExpireOption, amount: args[i + 1]! };
}

/**
 * The absolute deadline (Unix ms) an EX/PX/EXAT/PXAT option asks for, or the error Redis
 * gives: the amount must be a positive integer, and the deadline must fit in 64 bits.
 */
export function deadlineOf(c: Client, { option, amount }: ExpireRequest, command: string): bigint | RespValue {
  const n = parseInt64(amount);
  if (n === null) return ERR.notInteger;
  const inSeconds = option === 'EX' || option === 'EXAT';
  if (n <= 0n || (inSeconds && n > INT64_MAX / 1000n)) return invalidExpireTime(command);
  let deadline = inSeconds ? n * 1000n : n;
  if (option === 'EX' || option === 'PX') deadline += BigInt(c.server.clock.now());
  if (deadline > INT64_MAX) return invalidExpireTime(command);
  return deadline;
}

/**
 * Has this deadline passed? A key whose deadline is reached by a command is deleted.
 * 05: never while the AOF is replayed: the command was logged when the deadline was ahead,
 * and the replay must do what the command did then.
 */
export function isPast(c: Client, deadline: bigint): boolean {
  return !c.db.loading && deadline <= c.server.clock.now(); // 05
}

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
  return (c, args) => {
    const key = args[1]!;
    const conditions = expireConditions(args);
    if (!(conditions instanceof Set)) return conditions;
    let deadline = parseInt64(args[2]!);
    if (deadline === null) return ERR.notInteger;
    if (unit === 'seconds') {
      if (deadline > INT64_MAX / 1000n || deadline < INT64_MIN / 1000n) return invalidExpireTime(command);
      deadline *= 1000n;
    }
    const base = from === 'now' ? BigInt(c.server.clock.now()) : 0n;
    if (deadline > INT64_MAX - base) return invalidExpireTime(command);
    deadline += base;

    if (!c.db.has(key)) return integer(0);
    if (!conditionsAllow(conditions, c.db.getDeadline(key), deadline)) return integer(0);
    // 05: propagated as DEL, or as PEXPIREAT with the absolute deadline (and the conditions).
    if (isPast(c, deadline)) {
      c.db.delete(key);
      c.propagateAs = ['DEL', key];
    } else {
      c.db.setDeadline(key, deadline);
      c.propagateAs = ['PEXPIREAT', key, String(deadline), ...args.slice(3)];
    }
    return integer(1);
  };
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no such key, -1 for a key without deadline. */
function timeToLive(unit: 'seconds' | 'milliseconds', as: 'remaining' | 'deadline'): Command['run'] {
  return (c, [, key]) => {
    if (lookupKeyRead(c, key!) === undefined) return integer(-2);
    const deadline = c.db.getDeadline(key!);
    if (deadline === undefined) return integer(-1);
    let ms = as === 'deadline' ? deadline : deadline - BigInt(c.server.clock.now());
    if (ms < 0n) ms = 0n;
    // Seconds are rounded to the nearest: 1.5 s left is "2".
    return integer(unit === 'milliseconds' ? ms : (ms + 500n) / 1000n);
  };
}

function persist(c: Client, [, key]: string[]): RespValue {
  if (!c.db.has(key!)) return integer(0);
  return integer(c.db.removeDeadline(key!) ? 1 : 0);
}

/** Expiry commands change only a key's deadline: fast, and never more memory. */
const deadlineWrite = (summary: string, arity: number, run: Command['run']): Command =>
  ({ ...write('keyspace', summary, arity, run), flags: ['write', 'fast'] });

export const expire: CommandFamily = {
  commands: {
    expire: deadlineWrite('Set a key\'s time to live in seconds', -3, expireCommand('seconds', 'now', 'expire')),
    pexpire: deadlineWrite('Set a key\'s time to live in milliseconds', -3, expireCommand('milliseconds', 'now', 'pexpire')),
    expireat: deadlineWrite('Set the expiration for a key as a UNIX timestamp', -3, expireCommand('seconds', 'epoch', 'expireat')),
    pexpireat: deadlineWrite('Set the expiration for a key as a UNIX timestamp specified in milliseconds', -3, expireCommand('milliseconds', 'epoch', 'pexpireat')),
    ttl: read('keyspace', 'Get the time to live for a key in seconds', 2, timeToLive('seconds', 'remaining')),
    pttl: read('keyspace', 'Get the time to live for a key in milliseconds', 2, timeToLive('milliseconds', 'remaining')),
    expiretime: read('keyspace', 'Get the expiration Unix timestamp for a key', 2, timeToLive('seconds', 'deadline')),
    pexpiretime: read('keyspace', 'Get the expiration Unix timestamp for a key in milliseconds', 2, timeToLive('milliseconds', 'deadline')),
    persist: deadlineWrite('Remove the expiration from a key', 2, persist),
  },
  info: {
    Stats: ({ db }) => [
      ['expired_keys', db.expiredKeys],
      ['expired_time_cap_reached_count', db.timeCapReached],
    ],
  },
};
