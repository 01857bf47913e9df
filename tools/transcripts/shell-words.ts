// What a shell line typed in a transcript is: a step's server being started, a redis-cli
// the replayer emulates, an nc session, or anything else (run by a real bash). Only simple
// commands (words and quotes, no pipes, redirections, variables or globs) are read here;
// everything else goes to bash as typed.

/** The words of a simple command as bash would pass them, or null if the line needs bash itself. */
export function simpleCommandWords(line: string): string[] | null {
  return scanSimpleCommand(line)?.words ?? null;
}

/**
 * A simple command without its trailing comment (`make 02-resp-parser  # port 6380` is
 * `make 02-resp-parser`), so that words added after it are not commented out; any other
 * line as it is.
 */
export function withoutComment(line: string): string {
  const scanned = scanSimpleCommand(line);
  return scanned === null ? line : line.slice(0, scanned.end).trimEnd();
}

/** The words of a simple command, and where it ends: at a comment, or at the end of the line. */
function scanSimpleCommand(line: string): { words: string[]; end: number } | null {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const add = (text: string) => (word = (word ?? '') + text);
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return null;
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        const d = line[i];
        if (d === undefined || d === '$' || d === '`') return null;
        if (d === '"') break;
        if (d === '\\' && '\\"$`'.includes(line[i + 1] ?? '')) {
          text += line[i + 1];
          i += 2;
        } else {
          text += d;
          i++;
        }
      }
      add(text);
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return null;
      add(line[i + 1]!);
      i += 2;
    } else if (c === '#' && word === null) {
      break; // a comment to the end of the line
    } else if ('|&;<>()$`*?[]{}~!'.includes(c)) {
      return null;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return { words, end: i };
}

/**
 * Doc ports: the workshop's servers listen on 6380, a second one on 6381, and so on; real
 * Redis's default is 6379. Each maps to a free port of its own in a replay.
 */
export const DOC_PORT = /(?<![\w.-])(?:6379|63[89]\d)(?!\w)/g;

/** A doc port a line talks to starts the doc's step server there, unless one was started: not 6379. */
export const isStepPort = (port: number): boolean => port >= 6380 && port <= 6399;

/** The doc ports a piece of text mentions. */
export function docPortsIn(text: string): number[] {
  return [...new Set([...text.matchAll(DOC_PORT)].map((m) => Number(m[0])))];
}

export type ShellLine =
  /** Starts a server that keeps running: `make 03-get-set`, `npx tsx 03-get-set/server.ts`, `redis-server`. */
  | { kind: 'server'; program: 'make' | 'step' | 'redis-server'; docPort: number; portGiven: boolean }
  /** redis-cli with options the emulator knows; no args: an interactive prompt session. */
  | { kind: 'redis-cli'; host: string; docPort: number; resp3: boolean; args: string[] }
  /** `nc [flags] host port` typed alone: the lines after it are typed into it. */
  | { kind: 'nc'; words: string[] }
  /** `kill`, `pkill`: never starts a server for the port it names. */
  | { kind: 'kill' }
  | { kind: 'bash' };

const STEP_SERVER = /^(?:\.\/)?\d\d-[\w-]+\/server\.ts$/;

/** The value after the last `--port` in a list of words, if any. */
function portFlag(words: readonly string[]): number | undefined {
  let port: number | undefined;
  words.forEach((w, i) => {
    if (w === '--port' && words[i + 1] !== undefined) port = Number(words[i + 1]);
  });
  return port;
}

export function classifyShellLine(line: string, steps: readonly string[]): ShellLine {
  const words = simpleCommandWords(line);
  if (words === null || words.length === 0) return { kind: 'bash' };
  const [program, ...rest] = words as [string, ...string[]];
  if (program === 'kill' || program === 'pkill') return { kind: 'kill' };
  if (program === 'make') {
    const variables = new Map(rest.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    const targets = rest.filter((w) => !w.includes('=') && !w.startsWith('-'));
    if (targets.length === 1 && steps.includes(targets[0]!)) {
      const fromArgs = portFlag(simpleCommandWords(variables.get('ARGS') ?? '') ?? []);
      const port = fromArgs ?? (variables.has('PORT') ? Number(variables.get('PORT')) : undefined);
      return { kind: 'server', program: 'make', docPort: port ?? 6380, portGiven: variables.has('PORT') };
    }
    return { kind: 'bash' };
  }
  const script = program === 'npx' && rest[0] === 'tsx' ? rest[1] : program === 'tsx' || program === 'node' ? rest.find((w) => w.endsWith('.ts')) : undefined;
  if (script !== undefined && STEP_SERVER.test(script)) {
    const port = portFlag(rest);
    return { kind: 'server', program: 'step', docPort: port ?? 6380, portGiven: port !== undefined };
  }
  if (program === 'redis-server') {
    const port = portFlag(rest);
    return { kind: 'server', program: 'redis-server', docPort: port ?? 6379, portGiven: port !== undefined };
  }
  if (program === 'redis-cli') return redisCliLine(rest) ?? { kind: 'bash' };
  if (program === 'nc') {
    const positional = rest.filter((w) => !w.startsWith('-'));
    if (positional.length === 2 && /^\d+$/.test(positional[1]!) && rest.every((w) => positional.includes(w) || /^-[A-Za-z]+$/.test(w))) {
      return { kind: 'nc', words };
    }
  }
  return { kind: 'bash' };
}

/** redis-cli's options the emulator knows; any other option means the real redis-cli runs. */
function redisCliLine(rest: readonly string[]): ShellLine | null {
  let host = '127.0.0.1';
  let docPort = 6379;
  let resp3 = false;
  let i = 0;
  for (; i < rest.length && rest[i]!.startsWith('-'); i++) {
    const option = rest[i]!;
    if (option === '-h' && rest[i + 1] !== undefined) host = rest[++i]!;
    else if (option === '-p' && /^\d+$/.test(rest[i + 1] ?? '')) docPort = Number(rest[++i]);
    else if (option === '-3') resp3 = true;
    else if (option === '-2') resp3 = false;
    else if (option !== '--no-raw') return null;
  }
  return { kind: 'redis-cli', host, docPort, resp3, args: rest.slice(i) };
}
