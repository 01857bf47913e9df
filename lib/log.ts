// One line per event, in redis-server's layout: "pid:M 24 Nov 2026 14:17:11.123 * message".
// The character before the message is the level, as Redis prints it.

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'verbose', 'notice', 'warning', 'nothing'];

const LEVEL_MARK: Record<Exclude<LogLevel, 'nothing'>, string> = {
  debug: '.',
  verbose: '-',
  notice: '*',
  warning: '#',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface Logger {
  debug(message: string): void;
  verbose(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
}

/** Where log lines go; tests pass their own to read what the server said. */
export type LogSink = (line: string) => void;

const toStdout: LogSink = (line) => process.stdout.write(line + '\n');

export function createLogger(level: LogLevel = 'notice', sink: LogSink = toStdout, role = 'M'): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (mine: Exclude<LogLevel, 'nothing'>) =>
    LOG_LEVELS.indexOf(mine) < threshold
      ? () => {}
      : (message: string) => sink(`${process.pid}:${role} ${timestamp(new Date())} ${LEVEL_MARK[mine]} ${message}`);
  return { debug: at('debug'), verbose: at('verbose'), notice: at('notice'), warning: at('warning') };
}

function timestamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${time}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
