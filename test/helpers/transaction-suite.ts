// Transactions as every step from 05 on must keep them, compared with real Redis byte for
// byte: MULTI, EXEC, DISCARD, WATCH and UNWATCH on one connection, in RESP2 and RESP3, and
// WATCH races between clients. Each step's transactions.test.ts runs it against its server.
import { describeDifferential, type DiffCase } from './differential.ts';
import type { StepName, StepOptions } from './servers.ts';
import { describeSessions, on, type SessionCase } from './sessions.ts';

export const TRANSACTION_CASES: DiffCase[] = [
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

  // WATCH: check-and-set on one connection (the races between clients are TRANSACTION_SESSIONS)
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
  { name: 'INCRBY 0 and SET of the same value are changes', send: [['SET', 'n', '1'], ['WATCH', 'n'], ['INCRBY', 'n', '0'], ['MULTI'], ['GET', 'n'], ['EXEC'], ['WATCH', 'n'], ['SET', 'n', '1', 'XX'], ['MULTI'], ['GET', 'n'], ['EXEC']] },
  { name: 'GETEX with no option, and PERSIST of a key without TTL, are not changes', send: [['SET', 'k', 'v'], ['WATCH', 'k'], ['GETEX', 'k'], ['PERSIST', 'k'], ['MULTI'], ['GET', 'k'], ['EXEC']] },
  { name: 'QUIT inside MULTI answers and closes', send: [['MULTI'], ['SET', 'k', 'v'], ['QUIT']], closes: true },
  { name: 'a transaction that writes, then reads what it wrote', send: [['MULTI'], ['SET', 'k', '1'], ['INCR', 'k'], ['APPEND', 'k', 'x'], ['GETDEL', 'k'], ['EXISTS', 'k'], ['EXEC']] },
  { name: 'WATCH after a watched key changed: EXEC still fails', send: [['WATCH', 'a'], ['SET', 'a', '1'], ['WATCH', 'b'], ['MULTI'], ['PING'], ['EXEC']] },
];

export const TRANSACTION_SESSIONS: SessionCase[] = [
  {
    name: 'another client writes a watched key: EXEC returns null and runs nothing',
    steps: [on(0, 'SET', 'balance', '100'), on(0, 'WATCH', 'balance'), on(1, 'INCRBY', 'balance', '5'),
      on(0, 'MULTI'), on(0, 'DECRBY', 'balance', '30'), on(0, 'EXEC'), on(1, 'GET', 'balance')],
  },
  {
    name: 'another client writes after MULTI, before EXEC: still null',
    steps: [on(0, 'WATCH', 'k'), on(0, 'MULTI'), on(0, 'SET', 'k', 'mine'), on(1, 'SET', 'k', 'theirs'), on(0, 'EXEC'), on(1, 'GET', 'k')],
  },
  {
    name: 'another client only reads a watched key: EXEC runs',
    steps: [on(0, 'SET', 'k', 'v'), on(0, 'WATCH', 'k'), on(1, 'GET', 'k'), on(1, 'EXISTS', 'k'), on(0, 'MULTI'), on(0, 'APPEND', 'k', '!'), on(0, 'EXEC')],
  },
  {
    name: 'two clients watch the same key; the first to EXEC wins',
    steps: [on(0, 'SET', 'seat', 'free'), on(0, 'WATCH', 'seat'), on(1, 'WATCH', 'seat'),
      on(0, 'MULTI'), on(0, 'SET', 'seat', 'alice'), on(1, 'MULTI'), on(1, 'SET', 'seat', 'bob'),
      on(0, 'EXEC'), on(1, 'EXEC'), on(2, 'GET', 'seat')],
  },
  {
    name: 'a write in another client\'s EXEC touches the watchers',
    steps: [on(0, 'WATCH', 'k'), on(1, 'MULTI'), on(1, 'SET', 'k', '1'), on(1, 'EXEC'), on(0, 'MULTI'), on(0, 'GET', 'k'), on(0, 'EXEC')],
  },
  {
    name: 'another client\'s FLUSHALL touches a watched key that exists',
    steps: [on(0, 'SET', 'k', 'v'), on(0, 'WATCH', 'k'), on(1, 'FLUSHALL'), on(0, 'MULTI'), on(0, 'PING'), on(0, 'EXEC')],
  },
  {
    name: 'each client has its own transaction',
    steps: [on(0, 'MULTI'), on(1, 'SET', 'k', 'now'), on(0, 'GET', 'k'), on(1, 'EXEC'), on(1, 'MULTI'), on(1, 'BOGUS'),
      on(0, 'EXEC'), on(1, 'EXEC'), on(0, 'GET', 'k')],
  },
  {
    name: 'a closed connection\'s watches go with it',
    steps: [on(0, 'WATCH', 'k'), on(1, 'WATCH', 'k'), on(0, 'QUIT'), on(1, 'UNWATCH'), on(2, 'SET', 'k', 'v'), on(1, 'MULTI'), on(1, 'GET', 'k'), on(1, 'EXEC')],
  },
];

/** The same cases on a RESP3 connection: HELLO 3 first (its id differs between servers). */
function resp3(cases: DiffCase[]): DiffCase[] {
  return cases.map((c) => ({
    ...c,
    name: `RESP3: ${c.name}`,
    send: [['HELLO', '3'], ...(c.send as string[][])],
    normalize: (reply) => reply.replace(/(\$2\r\nid\r\n:)\d+/, '$1<id>'),
  }));
}

/** Declares the transaction suites for `step`: one connection (RESP2 and RESP3), then several. */
export function describeTransactions<S extends StepName>(step: S, serverOptions?: StepOptions<S>): void {
  describeDifferential(step, [...TRANSACTION_CASES, ...resp3(TRANSACTION_CASES)], serverOptions);
  describeSessions(step, TRANSACTION_SESSIONS, serverOptions);
}
