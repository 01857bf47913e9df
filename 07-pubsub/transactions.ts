// 05: transactions (Redis's multi.c): MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//
// MULTI puts a client in a state where its commands are queued (+QUEUED) instead of run;
// EXEC runs them all, one after the other, with nothing from any other client in between:
// the server is single-threaded, so running them in one go is all atomicity takes. There is
// no rollback: a command that fails at run time (INCR on a word) gets its error in its slot
// of EXEC's reply and the others still run, as in Redis. A command refused while queueing
// (unknown, wrong arity) poisons the transaction: EXEC answers EXECABORT and runs nothing.
//
// WATCH is optimistic locking. The server keeps, per watched key, the clients watching it
// (WatchedKeys); any change to the key (a write, a delete, an expiry, FLUSHALL) marks those
// clients, and their EXEC then answers a null array and runs nothing: check-and-set.
import { NULL_ARRAY, OK, array, error, simple, type RespValue } from '../lib/resp.ts';
import { call, other, type Command, type CommandFamily, type ErrorReply } from './command.ts';
import type { Keyspace } from './keyspace.ts';
import type { Client } from './server.ts';

/** A command waiting in a transaction, checked and ready to run. */
interface QueuedCommand {
  command: Command;
  args: string[];
}

/** What one client's transaction holds (Redis keeps it in the client: mstate and flags). */
export class TransactionState {
  /** The commands queued since MULTI; null outside a transaction. */
  queue: QueuedCommand[] | null = null;
  /** A command was refused while queueing: EXEC must fail (Redis's CLIENT_DIRTY_EXEC). */
  refusedCommand = false;
  /** A watched key changed: EXEC must not run (Redis's CLIENT_DIRTY_CAS). */
  watchedKeyChanged = false;
  /** 06: EXEC is running the queue (Redis's server.in_exec): BGSAVE waits for the cron. */
  executing = false;
  /** The keys this client watches, each with "was it already expired when watched?". */
  readonly watching = new Map<string, { expiredWhenWatched: boolean }>();

  get inMulti(): boolean {
    return this.queue !== null;
  }

  /** Does the queue hold a write? Then EXEC counts as a write (MISCONF refuses it). */
  get queuesWrite(): boolean {
    return this.queue?.some(({ command }) => command.flags.includes('write')) ?? false;
  }
}

/** The clients watching each key (Redis's db->watched_keys). One per server. */
export class WatchedKeys {
  private readonly watchers = new Map<string, Set<Client>>();

  constructor(private readonly db: Keyspace) {}

  watch(c: Client, key: string): void {
    if (c.transaction.watching.has(key)) return;
    c.transaction.watching.set(key, { expiredWhenWatched: this.db.hasExpired(key) });
    let clients = this.watchers.get(key);
    if (clients === undefined) this.watchers.set(key, (clients = new Set()));
    clients.add(c);
  }

  unwatchAll(c: Client): void {
    for (const key of c.transaction.watching.keys()) {
      const clients = this.watchers.get(key)!;
      clients.delete(c);
      if (clients.size === 0) this.watchers.delete(key);
    }
    c.transaction.watching.clear();
  }

  /**
   * A key changed (Redis's touchWatchedKey): every client watching it will see EXEC fail.
   * A key that was already expired when watched and is now simply gone did not change in
   * any way the watcher could have seen, as in Redis.
   */
  touch(key: string): void {
    const clients = this.watchers.get(key);
    if (clients === undefined) return;
    this.mark(key, clients, this.db.isStored(key));
  }

  /** Every key is about to go (FLUSHALL): each watched key that is stored changes. */
  touchAll(): void {
    for (const [key, clients] of [...this.watchers]) if (this.db.isStored(key)) this.mark(key, clients, false);
  }

  private mark(key: string, clients: Set<Client>, stillStored: boolean): void {
    for (const c of [...clients]) {
      const watched = c.transaction.watching.get(key)!;
      if (watched.expiredWhenWatched && !stillStored) {
        watched.expiredWhenWatched = false;
        continue;
      }
      c.transaction.watchedKeyChanged = true;
      // Marked once is enough: nothing more to watch until the transaction ends.
      this.unwatchAll(c);
    }
  }
}

/** Inside MULTI, every command is queued except these, which act on the transaction itself. */
const RUN_IN_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'quit']);

/** 06: a command that may not be queued (SAVE), refused as Redis refuses it. */
export function refusedInMulti(c: Client, command: Command): ErrorReply | null {
  if (!c.transaction.inMulti || !command.flags.includes('no_multi')) return null;
  return { type: 'error', message: 'ERR Command not allowed inside a transaction' };
}

export function isQueued(c: Client, name: string): boolean {
  return c.transaction.inMulti && !RUN_IN_MULTI.has(name);
}

export function queueCommand(c: Client, command: Command, args: string[]): RespValue {
  // Once EXEC is bound to fail, keeping the commands would only cost memory.
  if (!c.transaction.refusedCommand && !c.transaction.watchedKeyChanged) c.transaction.queue!.push({ command, args });
  return simple('QUEUED');
}

/**
 * A command refused before running (unknown, wrong arity, MISCONF): inside MULTI the
 * transaction can no longer run whole. A refused EXEC ends the transaction (if there was
 * one) and says why, even outside MULTI, as Redis's rejectCommand does.
 */
export function rejectCommand(c: Client, reply: ErrorReply, name: string): RespValue {
  if (c.transaction.inMulti) c.transaction.refusedCommand = true;
  if (name !== 'exec') return reply;
  discardTransaction(c);
  // Redis's own checks word these without the "ERR " code; other codes (MISCONF) stay.
  return error(`EXECABORT Transaction discarded because of: ${reply.message.replace(/^ERR /, '')}`);
}

function multi(c: Client): RespValue {
  if (c.transaction.inMulti) return error('ERR MULTI calls can not be nested');
  c.transaction.queue = [];
  return OK;
}

function discard(c: Client): RespValue {
  if (!c.transaction.inMulti) return error('ERR DISCARD without MULTI');
  discardTransaction(c);
  return OK;
}

function exec(c: Client): RespValue {
  const tx = c.transaction;
  if (!tx.inMulti) return error('ERR EXEC without MULTI');
  // A watched key that expired since WATCH changed, even if nothing has deleted it yet.
  for (const [key, { expiredWhenWatched }] of tx.watching) {
    if (!expiredWhenWatched && c.db.hasExpired(key)) tx.watchedKeyChanged = true;
  }
  if (tx.refusedCommand || tx.watchedKeyChanged) {
    const reply = tx.refusedCommand ? error('EXECABORT Transaction discarded because of previous errors.') : NULL_ARRAY;
    discardTransaction(c);
    return reply;
  }
  const queue = tx.queue!;
  c.server.watchedKeys.unwatchAll(c); // nothing can change under us from here on
  tx.executing = true; // 06
  const replies = queue.map(({ command, args }) => call(c, command, args));
  tx.executing = false; // 06
  discardTransaction(c);
  return array(replies);
}

function watch(c: Client, args: string[]): RespValue {
  if (c.transaction.inMulti) return error('ERR WATCH inside MULTI is not allowed');
  // Already marked: EXEC will fail whatever else is watched.
  if (c.transaction.watchedKeyChanged) return OK;
  for (let i = 1; i < args.length; i++) c.server.watchedKeys.watch(c, args[i]!);
  return OK;
}

function unwatch(c: Client): RespValue {
  c.server.watchedKeys.unwatchAll(c);
  c.transaction.watchedKeyChanged = false;
  return OK;
}

/** Leaves the transaction: the queue, the marks and the watched keys all go. */
export function discardTransaction(c: Client): void {
  c.transaction.queue = null;
  c.transaction.refusedCommand = false;
  c.transaction.watchedKeyChanged = false;
  c.server.watchedKeys.unwatchAll(c);
}

export const transactions: CommandFamily = {
  commands: {
    multi: other('transactions', 'Mark the start of a transaction block', 1, multi, ['noscript', 'loading', 'stale', 'fast']),
    exec: other('transactions', 'Execute all commands issued after MULTI', 1, exec, ['noscript', 'loading', 'stale']),
    discard: other('transactions', 'Discard all commands issued after MULTI', 1, discard, ['noscript', 'loading', 'stale', 'fast']),
    watch: { ...other('transactions', 'Watch the given keys to determine execution of the MULTI/EXEC block', -2, watch, ['noscript', 'loading', 'stale', 'fast']), keys: [1, -1, 1] },
    unwatch: other('transactions', 'Forget about all watched keys', 1, unwatch, ['noscript', 'loading', 'stale', 'fast']),
  },
};
