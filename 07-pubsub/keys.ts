// 03: the keyspace commands (Redis's db.c): DEL, EXISTS, KEYS, DBSIZE, FLUSHDB/FLUSHALL and
// SELECT, and the read lookup that counts INFO's keyspace hits and misses.
import { globMatch } from '../lib/glob.ts';
import { parseInt64 } from '../lib/numbers.ts';
import { OK, bulks, error, integer, type RespValue } from '../lib/resp.ts';
import { ERR, other, read, write, type CommandFamily } from './command.ts';
import type { Client } from './server.ts';

/** Reads a key for a command that reports it, counting hits and misses for INFO. */
export function lookupKeyRead(c: Client, key: string): string | undefined {
  const value = c.db.get(key);
  if (value === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  return value;
}

function del(c: Client, args: string[]): RespValue {
  let deleted = 0;
  for (let i = 1; i < args.length; i++) if (c.db.delete(args[i]!)) deleted++;
  return integer(deleted);
}

/** EXISTS counts every argument that names a key, so "EXISTS k k" can answer 2. */
function exists(c: Client, args: string[]): RespValue {
  let found = 0;
  for (let i = 1; i < args.length; i++) if (lookupKeyRead(c, args[i]!) !== undefined) found++;
  return integer(found);
}

function keys(c: Client, [, pattern]: string[]): RespValue {
  const matching: string[] = [];
  for (const key of c.db.keys()) if (pattern === '*' || globMatch(pattern!, key)) matching.push(key);
  return bulks(matching);
}

function flush(c: Client, args: string[]): RespValue {
  if (args.length > 2) return ERR.syntax;
  if (args.length === 2 && !['ASYNC', 'SYNC'].includes(args[1]!.toUpperCase())) return ERR.syntax;
  c.db.clear();
  if (args[0]!.toLowerCase() === 'flushall') c.server.rdb.flushedAll(); // 06
  return OK;
}

/** There is one database, as in a Redis started with "databases 1". */
function select(_c: Client, [, index]: string[]): RespValue {
  const n = parseInt64(index!);
  if (n === null) return ERR.notInteger;
  // Redis reads the index as a C int before it looks at the database count.
  if (n < -(2n ** 31n) || n >= 2n ** 31n) return error('ERR value is out of range, value must between -2147483648 and 2147483647');
  return n === 0n ? OK : ERR.dbIndex;
}

export const keyspace: CommandFamily = {
  commands: {
    del: { ...write('keyspace', 'Delete a key', -2, del), keys: [1, -1, 1] },
    exists: { ...read('keyspace', 'Determine if a key exists', -2, exists), keys: [1, -1, 1] },
    keys: other('keyspace', 'Find all keys matching the given pattern', 2, keys, ['readonly']),
    dbsize: other('server', 'Return the number of keys in the selected database', 1, (c) => integer(c.db.size), ['readonly', 'fast']),
    flushdb: other('server', 'Remove all keys from the current database', -1, flush, ['write']),
    flushall: other('server', 'Remove all keys from all databases', -1, flush, ['write']),
    select: other('connection', 'Change the selected database for the current connection', 2, select, ['loading', 'stale', 'fast']),
  },
  info: {
    Stats: ({ stats }) => [
      ['keyspace_hits', stats.keyspaceHits],
      ['keyspace_misses', stats.keyspaceMisses],
    ],
    // 04: how many keys have a deadline, and the estimated time they have left.
    Keyspace: ({ db }) => (db.size > 0 ? [['db0', `keys=${db.size},expires=${db.expiresCount},avg_ttl=${db.averageTtl}`]] : []),
  },
};
