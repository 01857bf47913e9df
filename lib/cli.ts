// Command-line flags in redis-server's style (`--port 6380 --save "900 1"`), and the
// "run me from the command line" entry point every step shares.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { LOG_LEVELS, type LogLevel } from './log.ts';
import type { OutputBufferLimit } from './connection.ts';

/** One flag: its default, and how to turn the text after it into a value. */
export interface Flag<T> {
  default: T;
  /** Returns the value, or throws FlagError with a reason. */
  parse(text: string): T;
}

export class FlagError extends Error {}

export type FlagValues<S> = { [K in keyof S]: S[K] extends Flag<infer T> ? T : never };

export function integerFlag(defaultValue: number, min: number, max: number): Flag<number> {
  return {
    default: defaultValue,
    parse(text) {
      const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) throw new FlagError(`'${text}' is not an integer`);
      if (n < min || n > max) throw new FlagError(`${n} is out of range (${min} to ${max})`);
      return n;
    },
  };
}

export function choiceFlag<T extends string>(defaultValue: T, choices: readonly T[]): Flag<T> {
  return {
    default: defaultValue,
    parse(text) {
      const choice = choices.find((c) => c === text.toLowerCase());
      if (choice === undefined) throw new FlagError(`'${text}' is not one of: ${choices.join(', ')}`);
      return choice;
    },
  };
}

export function yesNoFlag(defaultValue: boolean): Flag<boolean> {
  const yesNo = choiceFlag(defaultValue ? 'yes' : 'no', ['yes', 'no'] as const);
  return { default: defaultValue, parse: (text) => yesNo.parse(text) === 'yes' };
}

export function textFlag(defaultValue: string, check?: (text: string) => string | undefined): Flag<string> {
  return {
    default: defaultValue,
    parse(text) {
      const problem = check?.(text);
      if (problem !== undefined) throw new FlagError(problem);
      return text;
    },
  };
}

/** Space-separated words, as in `--bind "127.0.0.1 ::1"` or `--bind 127.0.0.1 ::1`. */
export function wordsFlag(defaultValue: string[]): Flag<string[]> {
  return {
    default: defaultValue,
    parse(text) {
      const words = text.split(/\s+/).filter(Boolean);
      if (words.length === 0) throw new FlagError('needs at least one value');
      return words;
    },
  };
}

/** The flags every server takes. Later steps add their own to these. */
export const COMMON_FLAGS = {
  port: integerFlag(6380, 0, 65535),
  // Redis's protected mode: only this machine can connect unless told otherwise.
  bind: wordsFlag(['127.0.0.1', '::1']),
  loglevel: choiceFlag<LogLevel>('notice', LOG_LEVELS),
};

/** appendfsync: when the append-only file's bytes are forced to the disk. */
export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** A file name on its own, as Redis requires of appendfilename and dbfilename. */
export function fileNameFlag(defaultValue: string, what: string): Flag<string> {
  return textFlag(defaultValue, (text) => {
    if (text === '') return `${what} can't be empty`;
    if (text.includes('/') || text === '.' || text === '..') return `${what} can't be a path, just a filename`;
    return undefined;
  });
}

/**
 * Persistence flags (step 05 on): where files live (`--dir`, created if missing) and how
 * the append-only file behaves. Later steps spread these and add their own.
 */
export const PERSISTENCE_FLAGS = {
  dir: textFlag('./data', (text) => (text === '' ? "dir can't be empty" : undefined)),
  appendonly: yesNoFlag(true),
  appendfsync: choiceFlag<FsyncPolicy>('everysec', FSYNC_POLICIES),
  appendfilename: fileNameFlag('appendonly.aof', 'appendfilename'),
};

/** A save point: snapshot after `seconds` if at least `changes` writes happened. */
export interface SavePoint {
  seconds: number;
  changes: number;
}

/**
 * `--save "3600 1 300 100"`: pairs of seconds and changes, checked as Redis checks them
 * (an even count of whole numbers, seconds at least 1, changes at least 0). `--save ""`
 * turns snapshots off.
 */
export function saveFlag(defaultValue: string): Flag<SavePoint[]> {
  const parse = (text: string): SavePoint[] => {
    const words = text.split(/\s+/).filter(Boolean);
    const numbers = words.map((w) => (/^-?\d+$/.test(w) ? Number(w) : NaN));
    const valid = words.length % 2 === 0 && numbers.every((n, i) => Number.isSafeInteger(n) && n >= (i % 2 === 0 ? 1 : 0));
    if (!valid) throw new FlagError('Invalid save parameters');
    const points: SavePoint[] = [];
    for (let i = 0; i < numbers.length; i += 2) points.push({ seconds: numbers[i]!, changes: numbers[i + 1]! });
    return points;
  };
  return { default: parse(defaultValue), parse };
}

/** How CONFIG GET save shows save points: "3600 1 300 100". */
export function formatSavePoints(points: readonly SavePoint[]): string {
  return points.map((p) => `${p.seconds} ${p.changes}`).join(' ');
}

/**
 * Snapshot flags (step 06 on): when to save (`--save`) and the file's name (`--dbfilename`),
 * with redis-server's defaults.
 */
export const SNAPSHOT_FLAGS = {
  save: saveFlag('3600 1 300 100 60 10000'),
  dbfilename: fileNameFlag('dump.rdb', 'dbfilename'),
};

/** Client classes, each with its own output buffer limit (Redis's client-output-buffer-limit). */
export const CLIENT_CLASSES = ['normal', 'replica', 'pubsub'] as const;
export type ClientClass = (typeof CLIENT_CLASSES)[number];
export type OutputBufferLimits = Record<ClientClass, OutputBufferLimit>;

/** "32mb" as Redis reads sizes: k/m/g are powers of 1000, kb/mb/gb powers of 1024. */
function parseMemory(text: string): number | null {
  const match = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  if (match === null) return null;
  const units: Record<string, number> = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!;
}

/**
 * `--client-output-buffer-limit "pubsub 32mb 8mb 60"`: for one or more classes, the hard
 * limit, the soft limit and its seconds, as redis.conf says it (`slave` is `replica`).
 * Classes not named keep their defaults.
 */
export function outputBufferLimitFlag(defaults: OutputBufferLimits): Flag<OutputBufferLimits> {
  return {
    default: defaults,
    parse(text) {
      const words = text.split(/\s+/).filter(Boolean);
      if (words.length === 0 || words.length % 4 !== 0) throw new FlagError('Wrong number of arguments in buffer limit configuration.');
      const limits = { ...defaults };
      for (let i = 0; i < words.length; i += 4) {
        const name = words[i]!.toLowerCase() === 'slave' ? 'replica' : words[i]!.toLowerCase();
        const [hard, soft, seconds] = words.slice(i + 1, i + 4).map((w, j) => (j < 2 ? parseMemory(w) : /^\d+$/.test(w) ? Number(w) : null));
        if (!(CLIENT_CLASSES as readonly string[]).includes(name)) throw new FlagError('Invalid client class specified in buffer limit configuration.');
        if (hard === null || soft === null || seconds === null) throw new FlagError('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
        limits[name as ClientClass] = { hardBytes: hard!, softBytes: soft!, softSeconds: seconds! };
      }
      return limits;
    },
  };
}

/** How CONFIG GET client-output-buffer-limit shows the limits, in Redis's words. */
export function formatOutputBufferLimits(limits: OutputBufferLimits): string {
  const redisName = (c: ClientClass) => (c === 'replica' ? 'slave' : c);
  return CLIENT_CLASSES.map((c) => `${redisName(c)} ${limits[c].hardBytes} ${limits[c].softBytes} ${limits[c].softSeconds}`).join(' ');
}

/** Client flags (step 07 on): the output buffer limits, with redis-server's defaults. */
export const CLIENT_FLAGS = {
  'client-output-buffer-limit': outputBufferLimitFlag({
    normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
    replica: { hardBytes: 256 * 1024 ** 2, softBytes: 64 * 1024 ** 2, softSeconds: 60 },
    pubsub: { hardBytes: 32 * 1024 ** 2, softBytes: 8 * 1024 ** 2, softSeconds: 60 },
  }),
};

/** Every flag at its default: what a server started in-process gets unless told otherwise. */
export function flagDefaults<S extends Record<string, Flag<unknown>>>(spec: S): FlagValues<S> {
  return Object.fromEntries(Object.entries(spec).map(([name, flag]) => [name, flag.default])) as FlagValues<S>;
}

/**
 * Parses `--name value...` pairs. A flag's value is every word up to the next `--flag`,
 * joined by spaces, so both `--save "900 1"` and `--save 900 1` work, and `--save ""`
 * gives the empty string.
 */
export function parseFlags<S extends Record<string, Flag<unknown>>>(argv: readonly string[], spec: S): FlagValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec)) values[name] = flag.default;
  for (let i = 0; i < argv.length; ) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument '${arg}' (flags look like --port 6380)`);
    const name = arg.slice(2).toLowerCase();
    const flag = spec[name];
    if (flag === undefined) {
      throw new FlagError(`unknown flag '${arg}' (this step knows: ${Object.keys(spec).map((n) => '--' + n).join(' ')})`);
    }
    const words: string[] = [];
    for (i++; i < argv.length && !argv[i]!.startsWith('--'); i++) words.push(argv[i]!);
    if (words.length === 0) throw new FlagError(`'${arg}' needs a value`);
    try {
      values[name] = flag.parse(words.join(' '));
    } catch (err) {
      if (err instanceof FlagError) throw new FlagError(`bad value for ${arg}: ${err.message}`);
      throw err;
    }
  }
  return values as FlagValues<S>;
}

/**
 * True when the module at `moduleUrl` is the file node (or tsx) was asked to run. Node names
 * a module by its real path, so a script reached through a symlinked folder is compared by
 * its real path too.
 */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false; // no such file: node was asked to run something else
  }
}

/**
 * Runs a server from the command line: parse the flags, start it, and exit non-zero with a
 * one-line reason if the flags are wrong or it cannot start.
 */
export async function runFromCommandLine<S extends Record<string, Flag<unknown>>>(
  spec: S,
  start: (options: FlagValues<S>) => Promise<unknown>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  let options: FlagValues<S>;
  try {
    options = parseFlags(argv, spec);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(2);
  }
  try {
    await start(options);
  } catch (err) {
    process.stderr.write(`Error: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
