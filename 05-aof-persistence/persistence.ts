// 05: what persistence shows of itself (Redis's server.c and config.c): the MISCONF refusal
// while the AOF cannot take writes, INFO's persistence fields, and the CONFIG parameters.
// The AOF itself is aof.ts (writing) and aof-load.ts (replaying).
import type { CommandFamily, Command, ErrorReply } from './command.ts';
import type { Client } from './server.ts';

/**
 * While the AOF cannot take writes (a failed write or fsync that has not recovered), write
 * commands are refused rather than confirmed and lost; so is PING, so a health check
 * notices. EXEC counts as a write when it would run one (Redis's processCommand).
 */
export function writeCommandsDeniedByDiskError(c: Client, name: string, command: Command): ErrorReply | null {
  const diskError = c.server.aof?.diskError;
  if (!diskError) return null;
  const writes = command.flags.includes('write') || (name === 'exec' && c.transaction.queuesWrite);
  if (!writes && name !== 'ping') return null;
  return { type: 'error', message: `MISCONF Errors writing to the AOF file: ${diskError}` };
}

export const persistence: CommandFamily = {
  commands: {},
  info: {
    // aof_last_write_status turns to err while writes are refused.
    Persistence: ({ aof }) => [
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
  },
};
