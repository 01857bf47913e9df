// 03: the string commands (Redis's t_string.c): GET, SET and its options, the INCR family,
// APPEND, GETRANGE, and their multi-key forms.
import { INT64_MAX, INT64_MIN, incrByFloat, parseInt64 } from '../lib/numbers.ts';
import { NULL_BULK, OK, bulk, bulks, error, integer, type RespValue } from '../lib/resp.ts';
import { ERR, read, write, wrongArity, type CommandFamily } from './command.ts';
import { lookupKeyRead } from './keys.ts';
import type { Client } from './server.ts';

/** The largest string value, as Redis's proto-max-bulk-len. */
export const MAX_STRING_BYTES = 512 * 1024 * 1024;

/** SET key value [NX | XX] [GET] */
function set(c: Client, args: string[]): RespValue {
  const [, key, value] = args as [string, string, string];
  if (args.length === 3) {
    // Plain SET, by far the most common form: no lookup of the old value needed.
    c.db.set(key, value);
    return OK;
  }
  let condition: 'NX' | 'XX' | undefined;
  let returnOld = false;
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toUpperCase();
    // Options may repeat; only NX with XX contradicts itself.
    if ((option === 'NX' || option === 'XX') && condition !== (option === 'NX' ? 'XX' : 'NX')) condition = option;
    else if (option === 'GET') returnOld = true;
    else return ERR.syntax;
  }
  const old = c.db.get(key);
  const allowed = condition === undefined || (condition === 'NX') === (old === undefined);
  if (allowed) c.db.set(key, value);
  if (returnOld) return bulk(old ?? null);
  return allowed ? OK : NULL_BULK;
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
  c.db.set(key, next.toString());
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
  c.db.set(key!, result.text);
  return bulk(result.text);
}

function append(c: Client, [, key, suffix]: string[]): RespValue {
  const old = c.db.get(key!) ?? '';
  if (old.length + suffix!.length > MAX_STRING_BYTES) return ERR.tooBig;
  const value = old + suffix!;
  c.db.set(key!, value);
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
  },
};
