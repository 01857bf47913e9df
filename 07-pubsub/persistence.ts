// 05: what persistence shows of itself (Redis's server.c and config.c): the MISCONF refusal
// while the AOF cannot take writes, INFO's persistence fields, and the CONFIG parameters.
// The AOF itself is aof.ts (writing) and aof-load.ts (replaying).
// 06: and snapshots: SAVE, BGSAVE, LASTSAVE, their INFO fields and CONFIG parameters; the
// snapshot itself is rdb.ts.
import { formatSavePoints } from '../lib/cli.ts'; // 06
import { OK, error, integer, simple, type RespValue } from '../lib/resp.ts';
import { ERR, other, type CommandFamily, type Command, type ErrorReply } from './command.ts';
import type { Client } from './server.ts';

/** 06: Redis's wording when writes are refused because the last snapshot failed. */
const RDB_MISCONF =
  'MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk. ' +
  'Commands that may modify the data set are disabled, because this instance is configured to report errors ' +
  'during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs ' +
  'for details about the RDB error.';

/**
 * While the AOF cannot take writes (a failed write or fsync that has not recovered), write
 * commands are refused rather than confirmed and lost; so is PING, so a health check
 * notices. EXEC counts as a write when it would run one (Redis's processCommand).
 */
export function writeCommandsDeniedByDiskError(c: Client, name: string, command: Command): ErrorReply | null {
  // 06: a failed snapshot refuses writes too, while save points are set (Redis's default
  // stop-writes-on-bgsave-error yes), and is reported first.
  const { rdb, settings } = c.server;
  const rdbFailed = settings.save.length > 0 && rdb.lastBgsaveStatus === 'err';
  const diskError = c.server.aof?.diskError;
  if (!rdbFailed && !diskError) return null; // 06
  const writes = command.flags.includes('write') || (name === 'exec' && c.transaction.queuesWrite);
  if (!writes && name !== 'ping') return null;
  return { type: 'error', message: rdbFailed ? RDB_MISCONF : `MISCONF Errors writing to the AOF file: ${diskError}` };
}

/** 06: SAVE: the snapshot, now, while every client waits. */
function save(c: Client): RespValue {
  if (c.server.rdb.inProgress) return error('ERR Background save already in progress');
  return c.server.rdb.saveNow() ? OK : error('ERR');
}

/** 06: BGSAVE [SCHEDULE]: the snapshot, written in the background. */
function bgsave(c: Client, args: string[]): RespValue {
  if (args.length > 2 || (args.length === 2 && args[1]!.toLowerCase() !== 'schedule')) return ERR.syntax;
  const { rdb } = c.server;
  if (rdb.inProgress) return error('ERR Background save already in progress');
  // Inside EXEC the save cannot start halfway through the transaction: the cron starts it.
  if (c.transaction.executing) {
    rdb.scheduled = true;
    return simple('Background saving scheduled');
  }
  rdb.startBackgroundSave();
  return simple('Background saving started');
}

export const persistence: CommandFamily = {
  commands: {
    // 06: snapshots.
    save: other('server', 'Synchronously save the dataset to disk', 1, save, ['admin', 'noscript', 'no_multi']),
    bgsave: other('server', 'Asynchronously save the dataset to disk', -1, bgsave, ['admin', 'noscript']),
    lastsave: other('server', 'Get the Unix timestamp of the last successful save to disk', 1, (c) => integer(c.server.rdb.lastSave), ['fast', 'loading', 'stale']),
  },
  info: {
    // aof_last_write_status turns to err while writes are refused.
    Persistence: ({ aof, rdb }) => [
      // 06: the snapshots'.
      ['rdb_changes_since_last_save', rdb.changesSinceLastSave],
      ['rdb_bgsave_in_progress', rdb.inProgress ? 1 : 0],
      ['rdb_last_save_time', rdb.lastSave],
      ['rdb_last_bgsave_status', rdb.lastBgsaveStatus],
      ['rdb_last_bgsave_time_sec', rdb.lastBgsaveSeconds],
      ['rdb_current_bgsave_time_sec', rdb.currentBgsaveSeconds],
      ['rdb_saves', rdb.saves],
      ['rdb_last_load_keys_expired', rdb.expiredAtLoad],
      ['rdb_last_load_keys_loaded', rdb.loadedKeys],
      ['aof_enabled', aof === null ? 0 : 1],
      ['aof_rewrite_in_progress', 0],
      ['aof_rewrite_scheduled', 0],
      ['aof_last_rewrite_time_sec', -1],
      ['aof_current_rewrite_time_sec', -1],
      ['aof_last_bgrewrite_status', 'ok'],
      ['aof_rewrites', 0],
      ['aof_last_write_status', aof?.diskError ? 'err' : 'ok'],
      ...(aof?.info() ?? []),
    ],
  },
  config: {
    appendonly: ({ settings }) => (settings.appendonly ? 'yes' : 'no'),
    appendfsync: ({ settings }) => settings.appendfsync,
    dir: ({ settings }) => settings.dir,
    appendfilename: ({ settings }) => settings.appendfilename,
    save: ({ settings }) => formatSavePoints(settings.save), // 06
    dbfilename: ({ settings }) => settings.dbfilename, // 06
  },
};
