// redis-cli 7.0, emulated as a reader sees it in a terminal: what it sends (an interactive
// session opens with COMMAND DOCS, for its hints; -3 sends HELLO 3 first) and how it prints
// each reply (cliFormatReplyTTY in redis-cli.c: `(integer) 1`, `"quoted\x00"`, nested
// `1) 2) ...` with its indentation, RESP3 maps `1# "k" => ...`, INFO printed raw, the
// "Reading messages..." of SUBSCRIBE). Proven against the real program, byte for byte, by
// redis-cli.test.ts. Strings here are latin1: one char per byte, as redis-cli writes them.
import type { RespValue } from '../../lib/resp.ts';
import { formatDouble } from '../../lib/resp-reply.ts';
import { splitInlineArgs } from '../../lib/resp-request.ts';
import { RawClient, command } from '../../test/helpers/raw-client.ts';

/** How long a reply may take before the replay calls it a hang. */
const REPLY_TIMEOUT_MS = 10_000;

/** sdscatrepr: printable ASCII as is (C locale), the rest escaped. */
export function quoteRepr(bytes: string): string {
  let out = '"';
  for (const c of bytes) {
    const code = c.charCodeAt(0);
    if (c === '\\' || c === '"') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\x07') out += '\\a';
    else if (c === '\b') out += '\\b';
    else if (code >= 0x20 && code <= 0x7e) out += c;
    else out += '\\x' + code.toString(16).padStart(2, '0');
  }
  return out + '"';
}

type Aggregate = { kind: 'array' | 'set' | 'push'; items: RespValue[] } | { kind: 'map'; items: RespValue[] };

/** The elements of an aggregate reply, a map's flattened key, value, key, value; null for a scalar. */
function aggregateOf(r: RespValue): Aggregate | null {
  switch (r.type) {
    case 'array':
      return r.items === null ? null : { kind: 'array', items: r.items };
    case 'set':
    case 'push':
      return { kind: r.type, items: r.items };
    case 'map':
      return { kind: 'map', items: r.entries.flat() };
    default:
      return null;
  }
}

/** cliIsMultilineValueTTY: a map's value that prints on several lines starts on a line of its own. */
function isMultiline(r: RespValue): boolean {
  const a = aggregateOf(r);
  if (a === null || a.items.length === 0) return false;
  if (a.kind === 'map') return a.items.length > 2 || isMultiline(a.items[1]!);
  return a.items.length > 1 || isMultiline(a.items[0]!);
}

const EMPTY: Record<Aggregate['kind'], string> = { array: '(empty array)', map: '(empty hash)', set: '(empty set)', push: '(empty push)' };
const NUMBER_MARK: Record<Aggregate['kind'], string> = { array: ')', map: '#', set: '~', push: ')' };

/** cliFormatReplyTTY: a reply as redis-cli prints it to a terminal. */
export function formatReplyTTY(r: RespValue, prefix = ''): string {
  switch (r.type) {
    case 'error':
      return `(error) ${r.message}\n`;
    case 'simple':
      return `${r.value}\n`;
    case 'integer':
      return `(integer) ${r.value}\n`;
    case 'double':
      return `(double) ${r.text ?? formatDouble(r.value)}\n`;
    case 'bulk':
      return r.value === null ? '(nil)\n' : `${quoteRepr(r.value)}\n`;
    case 'verbatim':
      return `${r.text}\n`;
    case 'boolean':
      return r.value ? '(true)\n' : '(false)\n';
  }
  const a = aggregateOf(r);
  if (a === null) return '(nil)\n'; // a RESP2 null array
  if (a.items.length === 0) return `${EMPTY[a.kind]}\n`;
  const count = a.kind === 'map' ? a.items.length / 2 : a.items.length;
  const width = String(count).length;
  const inner = prefix + ' '.repeat(width + 2);
  let out = '';
  for (let i = 0; i < a.items.length; i++) {
    const number = String((a.kind === 'map' ? i / 2 : i) + 1).padStart(width);
    out += `${i === 0 ? '' : prefix}${number}${NUMBER_MARK[a.kind]} ${formatReplyTTY(a.items[i]!, inner)}`;
    if (a.kind === 'map') {
      const value = a.items[++i]!;
      out = `${out.slice(0, -1)} => ${isMultiline(value) ? `\n${inner}` : ''}${formatReplyTTY(value, inner)}`;
    }
  }
  return out;
}

/** cliFormatReplyRaw: INFO and a few others print this way even to a terminal (and everything when piped). */
export function formatReplyRaw(r: RespValue): string {
  switch (r.type) {
    case 'error':
      return `${r.message}\n`;
    case 'simple':
      return r.value;
    case 'bulk':
      return r.value ?? '';
    case 'verbatim':
      return r.text;
    case 'integer':
      return String(r.value);
    case 'double':
      return r.text ?? formatDouble(r.value);
    case 'boolean':
      return r.value ? '(true)' : '(false)';
    case 'map':
      return r.entries.map(([k, v]) => `${formatReplyRaw(k)} ${formatReplyRaw(v)}`).join('\n');
    default:
      return (aggregateOf(r)?.items ?? []).map(formatReplyRaw).join('\n');
  }
}

/** The commands whose replies redis-cli prints raw even to a terminal (cliSendCommand's output_raw). */
export function printsRaw(args: readonly string[]): boolean {
  const [a = '', b = ''] = args.map((x) => x.toLowerCase());
  const n = args.length;
  return (
    a === 'info' || a === 'lolwut' ||
    (n >= 2 && a === 'debug' && ['htstats', 'htstats-key', 'client-eviction'].includes(b)) ||
    (n >= 2 && a === 'memory' && ['malloc-stats', 'doctor'].includes(b)) ||
    (n === 2 && a === 'cluster' && ['nodes', 'info'].includes(b)) ||
    (n >= 2 && a === 'client' && ['list', 'info'].includes(b)) ||
    (n === 3 && a === 'latency' && b === 'graph') ||
    (n === 2 && a === 'latency' && b === 'doctor') ||
    (n >= 2 && a === 'proxy' && b === 'info')
  );
}

/** hiredis's words for a failed connect. */
function connectError(err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = { ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer', ETIMEDOUT: 'Connection timed out', EHOSTUNREACH: 'No route to host' };
  return words[err.code ?? ''] ?? err.message;
}

export interface CliTarget {
  host: string;
  port: number;
  resp3: boolean;
}

/** What a command did to the session: printed and returned, entered a subscriber's loop, or exited. */
export type CliOutcome = 'done' | 'streaming' | 'exit';

/**
 * One redis-cli: `write` receives what it prints. A one-shot run is `connect` + `run`; an
 * interactive one is `startInteractive` + `typeLine` for each line, with `prompt` before each.
 */
export class RedisCli {
  private client: RawClient | null = null;
  private dbnum = 0;
  /** The database SELECTed last: a new connection selects it again (cliSelect). */
  private inputDb = 0;
  private inMulti = false;
  private preMultiDb = 0;
  private streaming: Promise<CliOutcome> | null = null;
  private interactive = false;

  constructor(
    private readonly target: CliTarget,
    private readonly write: (text: string) => void,
  ) {}

  /** cliConnect: connect, and with -3 switch to RESP3. Prints why not, unless `quiet`. */
  async connect(quiet = false): Promise<boolean> {
    try {
      this.client = await RawClient.connect(this.target.port, this.target.host);
    } catch (err) {
      if (!quiet) this.write(`Could not connect to Redis at ${this.target.host}:${this.target.port}: ${connectError(err as NodeJS.ErrnoException)}\n`);
      this.client = null;
      return false;
    }
    this.dbnum = 0;
    this.inMulti = false;
    if (this.inputDb !== 0) {
      const selected = await this.request(['SELECT', String(this.inputDb)]);
      if (selected?.type === 'error') this.write(`SELECT ${this.inputDb} failed: ${selected.message}\n`);
      else this.dbnum = this.inputDb;
    }
    if (this.target.resp3) {
      const hello = await this.request(['HELLO', '3']);
      if (hello?.type === 'error') this.write(`HELLO 3 failed: ${hello.message}\n`);
    }
    return true;
  }

  /** An interactive session: connect, then COMMAND DOCS for the hints (COMMAND where that fails), printing nothing. */
  async startInteractive(): Promise<void> {
    this.interactive = true;
    if (!(await this.connect())) return;
    const docs = await this.request(['COMMAND', 'DOCS']);
    if (docs === null || docs.type === 'error') await this.request(['COMMAND']);
  }

  /** cliRefreshPrompt: `127.0.0.1:6380[1](TX)> `, or `not connected> `. */
  prompt(): string {
    if (this.client === null) return 'not connected> ';
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    return `${host}:${this.target.port}${this.dbnum !== 0 ? `[${this.dbnum}]` : ''}${this.inMulti ? '(TX)' : ''}> `;
  }

  /** A line typed at the prompt (latin1: the bytes the terminal sends). */
  async typeLine(line: string): Promise<CliOutcome> {
    const words = splitInlineArgs(line);
    if (words === null) {
      this.write('Invalid argument(s)\n');
      return 'done';
    }
    if (words.length === 0) return 'done';
    let repeat = 1;
    if (words.length > 1 && /^[+-]?\d+$/.test(words[0]!)) {
      repeat = Number(words.shift());
      if (repeat <= 0) {
        this.write('Invalid redis-cli repeat command option value.\n');
        return 'done';
      }
    }
    const name = words[0]!.toLowerCase();
    if (name === 'quit' || name === 'exit') return 'exit';
    if (name.startsWith(':')) return 'done'; // preferences (:set hints) change nothing shown here
    if (['help', '?', 'connect', 'restart', 'clear'].includes(name)) throw new Error(`redis-cli's "${words[0]}" is not emulated; run it in a no-replay transcript`);
    const started = Date.now();
    for (let i = 0; i < repeat; i++) {
      const outcome = await this.run(words);
      if (outcome !== 'done') return outcome;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= 500) this.write(`(${(elapsed / 1000).toFixed(2)}s)\n`);
    return 'done';
  }

  /** issueCommand: sends one command (reconnecting if needed) and prints its reply. */
  async run(args: string[]): Promise<CliOutcome> {
    if (this.client === null || this.client.isClosed) {
      if (!(await this.connect())) return this.interactive ? 'done' : 'exit';
    }
    const name = args[0]!.toLowerCase();
    const raw = printsRaw(args);
    this.client!.send(command(...args));
    if (name === 'subscribe' || name === 'psubscribe' || name === 'ssubscribe' || name === 'monitor') {
      if (name !== 'monitor') this.write('Reading messages... (press Ctrl-C to quit)\n');
      this.streaming = this.printUntilStopped(raw);
      return 'streaming';
    }
    const reply = await this.readReply();
    if (reply === null) {
      // A server closing after SHUTDOWN did what was asked: cliReadReply says nothing then.
      if (name !== 'shutdown') this.write('Error: Server closed the connection\n');
      this.client = null;
      return this.interactive ? 'done' : 'exit';
    }
    this.write(raw ? formatReplyRaw(reply) : formatReplyTTY(reply));
    this.afterReply(name, args, reply);
    return 'done';
  }

  /** The prompt follows SELECT, MULTI, EXEC, DISCARD and RESET, as cliSendCommand does. */
  private afterReply(name: string, args: string[], reply: RespValue): void {
    const failed = reply.type === 'error';
    if (args.length === 2 && name === 'select' && !failed) this.dbnum = this.inputDb = Number.parseInt(args[1]!, 10) || 0;
    else if (args.length === 1 && name === 'multi' && !failed) {
      this.inMulti = true;
      this.preMultiDb = this.dbnum;
    } else if (args.length === 1 && name === 'exec' && this.inMulti) {
      this.inMulti = false;
      const isNull = (reply.type === 'bulk' && reply.value === null) || (reply.type === 'array' && reply.items === null);
      if (failed || isNull) this.dbnum = this.inputDb = this.preMultiDb;
    } else if (args.length === 1 && name === 'discard' && !failed) {
      this.inMulti = false;
      this.dbnum = this.inputDb = this.preMultiDb;
    } else if (args.length === 1 && name === 'reset' && !failed) {
      this.inMulti = false;
      this.dbnum = this.inputDb = 0;
    }
  }

  /** The next reply; a RESP3 push that comes first is printed (the push handler) and skipped. Null: closed. */
  private async readReply(): Promise<RespValue | null> {
    for (;;) {
      const reply = await this.nextValue(REPLY_TIMEOUT_MS);
      if (reply?.type !== 'push') return reply;
      this.write(formatPush(reply));
    }
  }

  private async nextValue(timeoutMs: number): Promise<RespValue | null> {
    try {
      return (await this.client!.readReplies(1, timeoutMs)).values[0]!;
    } catch (err) {
      if (this.client!.isClosed) return null;
      throw err;
    }
  }

  private async request(args: string[]): Promise<RespValue | null> {
    this.client!.send(command(...args));
    return this.nextValue(REPLY_TIMEOUT_MS);
  }

  /**
   * SUBSCRIBE's and MONITOR's loop: every reply as it comes, until Ctrl-C, an error reply
   * (back to the prompt, or the end of a one-shot run) or the server closing (redis-cli
   * exits, even an interactive one).
   */
  private async printUntilStopped(raw: boolean): Promise<CliOutcome> {
    const client = this.client!;
    for (;;) {
      let reply: RespValue | null;
      try {
        reply = (await client.readReplies(1, 2 ** 31 - 1)).values[0]!;
      } catch {
        reply = null;
      }
      if (reply === null) {
        if (this.streaming === null) return 'done'; // our own Ctrl-C closed it
        this.write('Error: Server closed the connection\n');
        this.streaming = null;
        return 'exit';
      }
      this.write(raw ? formatReplyRaw(reply) : formatReplyTTY(reply));
      if (reply.type === 'error') {
        this.streaming = null;
        return this.interactive ? 'done' : 'exit';
      }
    }
  }

  /** True while SUBSCRIBE's or MONITOR's loop runs. */
  get isStreaming(): boolean {
    return this.streaming !== null;
  }

  /** Resolves when the subscriber's loop ends by itself: 'exit' when redis-cli exits then. */
  streamEnded(): Promise<CliOutcome> {
    return this.streaming ?? Promise.resolve('done');
  }

  /**
   * Ctrl-C. A one-shot redis-cli dies. An interactive one in SUBSCRIBE's loop drops that
   * connection and opens a new one (7.0's sigIntHandler), back at the prompt; at the prompt
   * it exits.
   */
  async interrupt(): Promise<CliOutcome> {
    const loop = this.streaming;
    this.streaming = null;
    this.client?.destroy();
    await loop;
    this.client = null;
    if (!this.interactive || loop === null) return 'exit';
    await this.connect();
    return 'done';
  }

  close(): void {
    this.streaming = null;
    this.client?.destroy();
    this.client = null;
  }
}

/** cliPushHandler: an `invalidate` push has its own line; others print as replies do. */
function formatPush(r: Extract<RespValue, { type: 'push' }>): string {
  const [kind, keys] = r.items;
  if (r.items.length === 2 && kind?.type === 'bulk' && kind.value?.startsWith('invalidate') && keys?.type === 'array' && keys.items !== null) {
    return `-> invalidate: ${keys.items.map((k) => `'${k.type === 'bulk' ? k.value : ''}'`).join(', ')}\n`;
  }
  return formatReplyTTY(r);
}
