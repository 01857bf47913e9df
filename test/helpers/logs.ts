// A server's log, captured in a test: every line it wrote, and a way to wait for the line
// that says something happened (a save that finished, a client the server let go), instead
// of sleeping and hoping.
import type { LogSink } from '../../lib/log.ts';

export interface CapturedLog {
  /** Pass this as the server's logSink (with a loglevel that writes the lines you wait for). */
  readonly sink: LogSink;
  readonly lines: string[];
  /** Resolves with the first line matching `pattern`: one already written, or the next. */
  until(pattern: RegExp): Promise<string>;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  let waiting: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const sink: LogSink = (line) => {
    lines.push(line);
    const matched = waiting.filter((w) => w.pattern.test(line));
    waiting = waiting.filter((w) => !matched.includes(w));
    for (const w of matched) w.resolve(line);
  };
  const until = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const found = lines.find((line) => pattern.test(line));
      if (found !== undefined) resolve(found);
      else waiting.push({ pattern, resolve });
    });
  return { sink, lines, until };
}
