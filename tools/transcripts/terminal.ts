// A terminal of a replayed session: its own bash (shell functions and `cd` carry over to
// later transcripts of the session), what is open in it (an interactive redis-cli, an nc
// session, a redis-cli reading SUBSCRIBE's messages), and the log of the servers started in
// it, which goes on arriving while other lines are typed.
import { Group } from './processes.ts';
import { OutputStream } from './output.ts';
import type { RedisCli } from './redis-cli.ts';

/** A command that runs longer than this is a hang (nc without -N, a server started without make). */
export const COMMAND_TIMEOUT_MS = 30_000;

/** Marks the end of a command's output, with its exit status in between. */
const END = /\x1e(\d+)\x1e/;

/** bash's $'...' quoting, which keeps any text as one word. */
const ansiQuote = (text: string): string => `$'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;

export class CommandTimeout extends Error {}

/** One bash, fed a command at a time; each command's output (stdout and stderr, in order) comes back whole. */
export class Bash {
  private readonly group: Group;
  private received = '';
  private onData = () => {};

  constructor(cwd: string) {
    this.group = new Group('exec bash --noprofile --norc', { cwd, stdin: 'pipe' });
    this.group.child.stdout!.setEncoding('utf8');
    this.group.child.stdout!.on('data', (text: string) => {
      this.received += text;
      this.onData();
    });
  }

  /** Runs one line as typed at a prompt (stdin: nothing, as a command reading it would get from a reader who types nothing). */
  async run(command: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
    this.received = '';
    this.group.child.stdin!.write(`__line=${ansiQuote(command)}\n{ eval "$__line"\n} </dev/null; printf '\\036%d\\036' "$?"\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CommandTimeout(`still running after ${timeoutMs / 1000} s`)), timeoutMs);
      const check = () => {
        const end = END.exec(this.received);
        if (end !== null) {
          clearTimeout(timer);
          this.onData = () => {};
          // A shell reading commands from a pipe names the line in its errors; the reader's
          // interactive one does not ("bash: kill: (676) - No such process").
          resolve(this.received.slice(0, end.index).replace(/^bash: line \d+: /gm, 'bash: '));
        } else if (!this.group.running) {
          clearTimeout(timer);
          resolve(this.received); // `exit` typed: the terminal's shell is gone
        }
      };
      this.onData = check;
      void this.group.exited.then(check);
      check();
    });
  }

  stop(): Promise<void> {
    return this.group.stop();
  }
}

/** A server started by a line of the doc (`make 03-get-set`, `redis-server ...`), in its own group. */
export class ServerProcess {
  readonly group: Group;
  readonly output: OutputStream;

  constructor(
    script: string,
    cwd: string,
    toDoc: (line: string) => string,
    /** The doc port it listens on. */
    readonly docPort: number,
  ) {
    this.group = new Group(script, { cwd, stdin: 'ignore' });
    this.output = new OutputStream(toDoc);
    this.group.child.stdout!.on('data', (chunk: Buffer) => this.output.write(chunk));
    this.group.child.stdout!.on('close', () => this.output.close());
  }

  /**
   * What it printed up to "Ready to accept connections", or up to its exit when it fails to
   * start (then make's own `make: *** [...] Error 1` line is the last).
   */
  async startup(timeoutMs = COMMAND_TIMEOUT_MS): Promise<{ lines: string[]; ready: boolean }> {
    const at = await this.output.waitFor((line) => /Ready to accept connections/.test(line), timeoutMs);
    if (at >= 0) return { lines: this.output.take(at + 1), ready: true };
    if (!(await this.group.finished(2000))) throw new CommandTimeout(`not ready after ${timeoutMs / 1000} s; it printed: ${this.output.pending().join(' | ')}`);
    return { lines: this.output.take(), ready: false };
  }
}

/** `nc host port` typed alone: lines typed into it go to the server, what comes back is its output. */
export class NcSession {
  readonly group: Group;
  readonly output: OutputStream;

  constructor(script: string, cwd: string, toDoc: (line: string) => string) {
    this.group = new Group(script, { cwd, stdin: 'pipe' });
    this.output = new OutputStream(toDoc);
    this.group.child.stdin!.on('error', () => {}); // nc gone: what is typed next goes nowhere, as in a terminal
    this.group.child.stdout!.on('data', (chunk: Buffer) => this.output.write(chunk));
    this.group.child.stdout!.on('close', () => this.output.close());
  }

  type(text: string): void {
    this.group.child.stdin!.write(`${text}\n`);
  }

  /** Ctrl-D on an empty line: nc's input ends (with -N, so does its sending side). */
  endInput(): void {
    this.group.child.stdin!.end();
  }
}

export type Foreground =
  | { kind: 'cli'; cli: RedisCli; output: OutputStream }
  | { kind: 'subscriber'; cli: RedisCli; output: OutputStream }
  | { kind: 'nc'; nc: NcSession };

export class Terminal {
  private shell: Bash | null = null;
  /** What servers started in this terminal print once they are ready. */
  readonly background: OutputStream;
  foreground: Foreground | null = null;
  readonly servers: ServerProcess[] = [];

  constructor(
    readonly number: number,
    private readonly cwd: string,
    toDoc: (line: string) => string,
  ) {
    this.background = new OutputStream(toDoc);
  }

  bash(): Bash {
    return (this.shell ??= new Bash(this.cwd));
  }

  /** Where output shown with nothing typed comes from: what is open here, else the servers' log. */
  pendingOutput(): OutputStream {
    const fg = this.foreground;
    if (fg === null || (fg.kind === 'cli' && !fg.cli.isStreaming)) return this.background;
    if (fg.kind === 'nc') return fg.nc.output;
    return fg.output;
  }

  describeForeground(): string {
    const fg = this.foreground;
    if (fg === null) return 'nothing';
    if (fg.kind === 'nc') return 'an nc session';
    return fg.kind === 'cli' ? (fg.cli.isStreaming ? 'a redis-cli reading messages' : 'a redis-cli prompt') : 'a redis-cli reading messages';
  }

  async close(): Promise<void> {
    const fg = this.foreground;
    this.foreground = null;
    if (fg?.kind === 'nc') await fg.nc.group.stop();
    else fg?.cli.close();
    await this.shell?.stop();
  }
}
