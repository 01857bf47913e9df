// Transactions against real Redis, byte for byte, in RESP2 and RESP3: MULTI, EXEC, DISCARD,
// WATCH and UNWATCH, their errors, what is queued and what is refused, and what WATCH counts
// as a change (a write, a delete, FLUSHALL, an expired key).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeDifferential, type DiffCase } from '../test/helpers/differential.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'tx-diff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cases: DiffCase[] = [
  // The shape of a transaction
  { name: 'MULTI, queued commands, EXEC', send: [['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a'], ['EXEC']] },
  { name: 'EXEC of an empty transaction', send: [['MULTI'], ['EXEC']] },
  { name: 'a runtime error takes its slot; the others still run', send: [['SET', 'w', 'word'], ['MULTI'], ['SET', 'a', '1'], ['INCR', 'w'], ['INCR', 'a'], ['EXEC'], ['GET', 'a']] },
  { name: 'replies of every kind inside EXEC', send: [['MULTI'], ['GET', 'missing'], ['SET', 'k', 'v', 'GET'], ['MGET', 'k', 'missing'], ['PING'], ['ECHO', 'x'], ['EXISTS', 'k'], ['INCRBYFLOAT', 'f', '1.5'], ['EXEC']] },
  { name: 'expiry commands inside EXEC', send: [['MULTI'], ['SET', 'k', 'v', 'EX', '100'], ['TTL', 'k'], ['PERSIST', 'k'], ['TTL', 'k'], ['EXEC']] },
  { name: 'commands are case-insensitive inside a transaction', send: [['multi'], ['set', 'a', '1'], ['exec']] },
  { name: 'DISCARD drops the queue', send: [['MULTI'], ['SET', 'a', '1'], ['DISCARD'], ['GET', 'a'], ['EXEC']] },
  { name: 'INFO, CONFIG GET and HELLO are queued like any command', send: [['MULTI'], ['CONFIG', 'GET', 'maxmemory'], ['CLIENT', 'GETNAME'], ['EXEC']] },

  // Errors, worded as Redis words them
  { name: 'EXEC without MULTI', send: [['EXEC']] },
  { name: 'DISCARD without MULTI', send: [['DISCARD']] },
  { name: 'MULTI inside MULTI is refused but does not abort', send: [['MULTI'], ['MULTI'], ['SET', 'a', '1'], ['EXEC'], ['GET', 'a']] },
  { name: 'WATCH inside MULTI is refused but does not abort', send: [['MULTI'], ['WATCH', 'a'], ['SET', 'a', '1'], ['EXEC']] },
  { name: 'an unknown command while queueing aborts EXEC', send: [['MULTI'], ['SET', 'a', '1'], ['BOGUS', 'x'], ['EXEC'], ['GET', 'a']] },
  { name: 'a wrong arity while queueing aborts EXEC', send: [['MULTI'], ['SET', 'a'], ['SET', 'b', '1'], ['EXEC'], ['GET', 'b']] },
  { name: 'a wrong subcommand while queueing aborts EXEC', send: [['MULTI'], ['CONFIG', 'NOPE'], ['EXEC']] },
  { name: 'after EXECABORT the connection is out of the transaction', send: [['MULTI'], ['BOGUS'], ['EXEC'], ['EXEC'], ['SET', 'a', '1']] },
  { name: 'EXEC with arguments inside MULTI', send: [['MULTI'], ['SET', 'a', '1'], ['EXEC', 'now'], ['EXEC'], ['GET', 'a']] },
  { name: 'EXEC with arguments outside MULTI', send: [['EXEC', 'now']] },
  { name: 'MULTI with arguments', send: [['MULTI', 'x'], ['EXEC']] },
  { name: 'MULTI with arguments inside MULTI', send: [['MULTI'], ['MULTI', 'x'], ['EXEC']] },
  { name: 'DISCARD with arguments inside MULTI', send: [['MULTI'], ['DISCARD', 'x'], ['EXEC']] },
  { name: 'WATCH without keys', send: [['WATCH']] },
  { name: 'UNWATCH with arguments', send: [['UNWATCH', 'a']] },
  { name: 'a syntax error inside EXEC is a runtime error', send: [['MULTI'], ['SET', 'a', '1', 'BOGUS'], ['SET', 'b', '2'], ['EXEC']] },
  { name: 'errors of a command that is queued and of one that runs', send: [['MULTI'], ['GET', 'a', 'b'], ['DISCARD'], ['GET', 'a', 'b']] },

  // WATCH: check-and-set on one connection (the other client's races are in transactions-race.test.ts)
  { name: 'WATCH, nothing changes, EXEC runs', send: [['SET', 'k', '1'], ['WATCH', 'k'], ['MULTI'], ['INCR', 'k'], ['EXEC']] },
  { name: 'WATCH then our own write: EXEC returns null', send: [['WATCH', 'k'], ['SET', 'k', '1'], ['MULTI'], ['INCR', 'k'], ['EXEC'], ['GET', 'k']] },
  { name: 'WATCH several keys, one changes', send: [['WATCH', 'a', 'b', 'c'], ['SET', 'b', '1'], ['MULTI'], ['SET', 'a', '1'], ['EXEC'], ['EXISTS', 'a']] },
  { name: 'WATCH the same key twice', send: [['WATCH', 'k', 'k'], ['WATCH', 'k'], ['MULTI'], ['SET', 'k', '1'], ['EXEC']] },
  { name: 'UNWATCH forgets the watched keys', send: [['WATCH', 'k'], ['UNWATCH'], ['SET', 'k', '1'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'UNWATCH after a watched key changed clears the mark', send: [['WATCH', 'k'], ['SET', 'k', '1'], ['UNWATCH'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'EXEC unwatches: the next transaction is not bound', send: [['WATCH', 'k'], ['MULTI'], ['EXEC'], ['SET', 'k', '1'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'DISCARD unwatches', send: [['WATCH', 'k'], ['MULTI'], ['DISCARD'], ['SET', 'k', '1'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'a failed EXEC unwatches too', send: [['WATCH', 'k'], ['SET', 'k', '1'], ['MULTI'], ['EXEC'], ['SET', 'k', '2'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'a write that changes nothing does not touch a watched key', send: [['SET', 'k', 'v'], ['WATCH', 'k', 'missing'], ['SET', 'k', 'w', 'NX'], ['DEL', 'missing'], ['EXPIRE', 'missing', '10'], ['PERSIST', 'k'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'a write of the same value still touches', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['SET', 'k', 'v'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'DEL of a watched key touches it', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['DEL', 'k'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'EXPIRE of a watched key touches it', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['EXPIRE', 'k', '100'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'APPEND of an empty string touches it', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['APPEND', 'k', ''], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'FLUSHALL touches a watched key that exists', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['FLUSHALL'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'FLUSHALL does not touch a watched key that did not exist', send: [['WATCH', 'k'], ['FLUSHALL'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'FLUSHDB touches a watched key that exists', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['FLUSHDB'], ['MULTI'], ['PING'], ['EXEC']] },
  { name: 'a key already expired when watched, then read: no change', send: [['SET', 'k', 'v', 'PXAT', '1'], ['WATCH', 'k'], ['GET', 'k'], ['MULTI'], ['PING'], ['EXEC']] },
  { name: 'a key already expired when watched, then set again: a change', send: [['SET', 'k', 'v', 'PXAT', '1'], ['WATCH', 'k'], ['SET', 'k', 'w'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'a key already expired when watched, then FLUSHALL: no change', send: [['SET', 'k', 'v', 'PXAT', '1'], ['WATCH', 'k'], ['FLUSHALL'], ['MULTI'], ['PING'], ['EXEC']] },
  { name: 'a key already expired when watched, EXEC alone: runs', send: [['SET', 'k', 'v', 'PXAT', '1'], ['WATCH', 'k'], ['MULTI'], ['PING'], ['EXEC']] },
  { name: 'WATCH after a watched key changed: EXEC still fails', send: [['WATCH', 'a'], ['SET', 'a', '1'], ['WATCH', 'b'], ['MULTI'], ['PING'], ['EXEC']] },
];

/** The same cases on a RESP3 connection: HELLO 3 first (its id differs between servers). */
const resp3: DiffCase[] = cases.map((c) => ({
  name: `RESP3: ${c.name}`,
  send: [['HELLO', '3'], ...(c.send as string[][])],
  normalize: (reply) => reply.replace(/(\$2\r\nid\r\n:)\d+/, '$1<id>'),
}));

describeDifferential('05-aof-persistence', [...cases, ...resp3], { dir, appendfsync: 'always' });
