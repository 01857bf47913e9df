// 03: the string commands (Redis's t_string.c): GET, SET and its options, the INCR family,
// APPEND, GETRANGE, and their multi-key forms.
import { INT64_MAX, INT64_MIN, incrByFloat, parseInt64 } from '../lib/numbers.ts';
import { NULL_BULK, OK, bulk, bulks, error, integer, type RespValue } from '../lib/resp.ts';
import { ERR, read, write, wrongArity, type Command, type CommandFamily } from './command.ts';
import { deadlineOf, expireOptionAt, isPast, type ExpireRequest } from './expire.ts'; // 04
import { lookupKeyRead } from './keys.ts';
import type { Client } from './server.ts';

/** The largest string value, as Redis's proto-max-bulk-len. */
export const MAX_STRING_BYTES = 512 * 1024 * 1024;

/**
 * SET key value [NX | XX] [GET] [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | KEEPTTL]
 * 04: the expire options and KEEPTTL.
 */
function set(c: Client, args: string[]): RespValue {
  const [, key, value] = args as [string, string, string];
  if (args.length === 3) {
    // Plain SET, by far the most common form: no lookup of the old value needed.
    c.db.set(key, value);
    return OK;
  }
  let condition: 'NX' | 'XX' | undefined;
  let returnOld = false;
  let expire: ExpireRequest | undefined; // 04
  let keepTtl = false; // 04
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    // Options may repeat; only NX with XX contradicts itself.
    if ((option === 'NX' || option === 'XX') && condition !== (option === 'NX' ? 'XX' : 'NX')) condition = option;
    else if (option === 'GET') returnOld = true;
    // 04: KEEPTTL and the expire options exclude each other.
    else if (option === 'KEEPTTL' && expire === undefined) keepTtl = true;
    else {
      expire = expireOptionAt(args, i++, option, expire, keepTtl);
      if (expire === undefined) return ERR.syntax;
    }
  }
  // 04: a bad expire time is refused before anything is read or written.
  const deadline = expire === undefined ? undefined : deadlineOf(c, expire, 'set');
  if (deadline !== undefined && typeof deadline !== 'bigint') return deadline;
  const old = c.db.get(key);
  const allowed = condition === undefined || (condition === 'NX') === (old === undefined);
  if (allowed) {
    // 04: a new value forgets the old deadline, unless KEEPTTL asks to keep it. A deadline
    // already in the past is stored all the same (Redis 7.0 does): the key is dead on arrival.
    if (keepTtl) c.db.update(key, value);
    else c.db.set(key, value);
    if (deadline !== undefined) c.db.setDeadline(key, deadline);
  }
  if (returnOld) return bulk(old ?? null);
  return allowed ? OK : NULL_BULK;
}

/** 04: SETEX key seconds value, and PSETEX key milliseconds value. */
function setWithExpire(option: 'EX' | 'PX', command: string): Command['run'] {
  return (c, [, key, amount, value]) => {
    const deadline = deadlineOf(c, { option, amount: amount! }, command);
    if (typeof deadline !== 'bigint') return deadline;
    c.db.set(key!, value!);
    c.db.setDeadline(key!, deadline);
    return OK;
  };
}

/** 04: GETEX key [EX seconds | PX ms | EXAT unix-seconds | PXAT unix-ms | PERSIST] */
function getex(c: Client, args: string[]): RespValue {
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
  const value = lookupKeyRead(c, key);
  if (value === undefined) return NULL_BULK;
  const deadline = expire === undefined ? undefined : deadlineOf(c, expire, 'getex');
  if (deadline !== undefined && typeof deadline !== 'bigint') return deadline;
  // An EXAT or PXAT that has already passed deletes the key (after returning its value).
  if (deadline !== undefined && isPast(c, deadline)) c.db.delete(key);
  else if (deadline !== undefined) c.db.setDeadline(key, deadline);
  else if (persist) c.db.removeDeadline(key);
  return bulk(value);
}

function get(c: Client, [, key]: string[]): RespValue {
  return bulk(lookupKeyRead(c, key!) ?? null);
}

function setnx(c: Client, [, key, value]: string[]): RespValue {
  if (c.db.has(key!)) return integer(0);
  c.db.set(key!, value!);
  return integer(1);
}

function getset(c: Client, [, key, value]: string[]): RespValue {
  const old = lookupKeyRead(c, key!);
  c.db.set(key!, value!);
  return bulk(old ?? null);
}

function getdel(c: Client, [, key]: string[]): RespValue {
  const old = lookupKeyRead(c, key!);
  if (old !== undefined) c.db.delete(key!);
  return bulk(old ?? null);
}

function mget(c: Client, args: string[]): RespValue {
  return bulks(args.slice(1).map((key) => lookupKeyRead(c, key) ?? null));
}

function mset(c: Client, args: string[]): RespValue {
  if (args.length % 2 === 0) return wrongArity('mset');
  for (let i = 1; i < args.length; i += 2) c.db.set(args[i]!, args[i + 1]!);
  return OK;
}

/** MSETNX sets all the keys, or none of them if any already exists. */
function msetnx(c: Client, args: string[]): RespValue {
  if (args.length % 2 === 0) return wrongArity('msetnx');
  for (let i = 1; i < args.length; i += 2) if (c.db.has(args[i]!)) return integer(0);
  for (let i = 1; i < args.length; i += 2) c.db.set(args[i]!, args[i + 1]!);
  return integer(1);
}

/** INCR, DECR, INCRBY and DECRBY: the value must be a 64-bit integer, and stay one. */
function incrementBy(c: Client, key: string, delta: bigint): RespValue {
  const old = c.db.get(key);
  const current = old === undefined ? 0n : parseInt64(old);
  if (current === null) return ERR.notInteger;
  const next = current + delta;
  if (next > INT64_MAX || next < INT64_MIN) return ERR.overflow;
  c.db.update(key, next.toString()); // 04: update keeps the deadline
  return integer(next);
}

function incrby(c: Client, [, key, by]: string[]): RespValue {
  const delta = parseInt64(by!);
  return delta === null ? ERR.notInteger : incrementBy(c, key!, delta);
}

function decrby(c: Client, [, key, by]: string[]): RespValue {
  const delta = parseInt64(by!);
  if (delta === null) return ERR.notInteger;
  // -INT64_MIN does not fit in 64 bits, so Redis refuses to negate it.
  if (delta === INT64_MIN) return error('ERR decrement would overflow');
  return incrementBy(c, key!, -delta);
}

/** INCRBYFLOAT computes in long doubles, as Redis does (see lib/numbers.ts). */
function incrbyfloat(c: Client, [, key, by]: string[]): RespValue {
  const result = incrByFloat(c.db.get(key!) ?? '0', by!);
  if (!result.ok) return result.reason === 'not-a-float' ? ERR.notFloat : error('ERR increment would produce NaN or Infinity');
  c.db.update(key!, result.text); // 04: update keeps the deadline
  return bulk(result.text);
}

function append(c: Client, [, key, suffix]: string[]): RespValue {
  const old = c.db.get(key!) ?? '';
  if (old.length + suffix!.length > MAX_STRING_BYTES) return ERR.tooBig;
  const value = old + suffix!;
  c.db.update(key!, value); // 04: update keeps the deadline
  return integer(value.length);
}

function strlen(c: Client, [, key]: string[]): RespValue {
  return integer(lookupKeyRead(c, key!)?.length ?? 0);
}

/** GETRANGE key start end: inclusive offsets; negative ones count from the end. */
function getrange(c: Client, [, key, startText, endText]: string[]): RespValue {
  // Offsets are any 64-bit integers, so the arithmetic is done in BigInt as Redis does it
  // in long long; only the final, clamped offsets become numbers.
  let start = parseInt64(startText!);
  let end = parseInt64(endText!);
  if (start === null || end === null) return ERR.notInteger;
  const value = lookupKeyRead(c, key!) ?? '';
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

export const strings: CommandFamily = {
  commands: {
    get: read('string', 'Get the value of a key', 2, get),
    set: write('string', 'Set the string value of a key', -3, set),
    setnx: write('string', 'Set the value of a key, only if the key does not exist', 3, setnx),
    getset: write('string', 'Set the value of a key and return its old value', 3, getset),
    getdel: write('string', 'Get the value of a key and delete the key', 2, getdel),
    mget: { ...read('string', 'Get the values of all the given keys', -2, mget), keys: [1, -1, 1] },
    mset: { ...write('string', 'Set multiple keys to multiple values', -3, mset), keys: [1, -1, 2] },
    msetnx: { ...write('string', 'Set multiple keys to multiple values, only if none of the keys exist', -3, msetnx), keys: [1, -1, 2] },
    incr: write('string', 'Increment the integer value of a key by one', 2, (c, [, key]) => incrementBy(c, key!, 1n)),
    decr: write('string', 'Decrement the integer value of a key by one', 2, (c, [, key]) => incrementBy(c, key!, -1n)),
    incrby: write('string', 'Increment the integer value of a key by the given amount', 3, incrby),
    decrby: write('string', 'Decrement the integer value of a key by the given number', 3, decrby),
    incrbyfloat: write('string', 'Increment the float value of a key by the given amount', 3, incrbyfloat),
    append: write('string', 'Append a value to a key', 3, append),
    strlen: read('string', 'Get the length of the value stored in a key', 2, strlen),
    getrange: read('string', 'Get a substring of the string stored at a key', 4, getrange),
    // 04: strings with a deadline.
    setex: write('string', 'Set the value and expiration of a key', 4, setWithExpire('EX', 'setex')),
    psetex: write('string', 'Set the value and expiration in milliseconds of a key', 4, setWithExpire('PX', 'psetex')),
    getex: { ...write('string', 'Get the value of a key and optionally set its expiration', -2, getex), flags: ['write', 'fast'] },
  },
};
