// One replayed session: a scratch workshop folder, its terminals, and the servers started
// in it (by the doc's lines, or implicitly for a doc port something talks to). Its
// transcripts run in doc order; the first failure ends it. Everything it started is
// stopped, and its folder removed, when it ends, however it ends.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRealRedis, type RealRedis } from '../../test/helpers/redis-programs.ts';
import { matchOutput, type OutputSource } from './match.ts';
import { OutputStream } from './output.ts';
import type { Step, Transcript } from './parse.ts';
import { trackChild } from './processes.ts';
import { RedisCli } from './redis-cli.ts';
import { mismatchLine, type Failure } from './report.ts';
import { classifyShellLine, docPortsIn, isStepPort, withoutComment, type ShellLine } from './shell-words.ts';
import { NcSession, ServerProcess, Terminal } from './terminal.ts';
import { Workspace } from './workspace.ts';

export interface SessionPlan {
  doc: string;
  /** The step whose server a doc port gets when the doc starts none (the top README: 01-tcp-echo). */
  step: string;
  /** Step folders with a server.ts. */
  steps: readonly string[];
  transcripts: Transcript[];
  target: 'step' | 'redis';
}

export type TranscriptStatus = 'passed' | 'failed' | 'not-run';

export interface SessionOutcome {
  /** The transcripts run, in order, each passed or failed; those after a failure not run. */
  statuses: Map<Transcript, TranscriptStatus>;
  failure?: Failure;
}

export interface SessionOptions {
  /** The workshop folder whose entries the scratch folder links. */
  root: string;
  /** How long output shown in the doc may take to arrive (a server's log line, a message). */
  waitMs: number;
}

/** A failure found while running a step (not about the output's lines). */
class StepFailure extends Error {
  constructor(message: string, readonly rest: string[] = []) {
    super(message);
  }
}

const toBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
/** A redis-cli writes bytes; the terminal shows them as UTF-8. */
const printer = (output: OutputStream) => (text: string) => output.write(Buffer.from(text, 'latin1'));

export class Session {
  private readonly workspace: Workspace;
  private readonly terminals = new Map<number, Terminal>();
  /** Doc ports a server was started for, by the doc or implicitly (a killed one stays killed). */
  private readonly served = new Set<number>();
  private readonly servers: ServerProcess[] = [];
  private readonly redises: RealRedis[] = [];
  /** Files the doc had the reader save, by name, as the doc shows them (doc ports in them start servers). */
  private readonly files = new Map<string, string>();

  constructor(
    private readonly plan: SessionPlan,
    private readonly options: SessionOptions,
  ) {
    this.workspace = new Workspace(options.root);
  }

  async run(): Promise<SessionOutcome> {
    const statuses = new Map<Transcript, TranscriptStatus>();
    try {
      for (const transcript of this.plan.transcripts) {
        for (const step of transcript.steps) {
          const failure = await this.runStep(step, transcript);
          if (failure !== null) {
            statuses.set(transcript, 'failed');
            for (const t of this.plan.transcripts) if (!statuses.has(t)) statuses.set(t, 'not-run');
            return { statuses, failure };
          }
        }
        statuses.set(transcript, 'passed');
      }
      return { statuses };
    } finally {
      await this.close();
    }
  }

  private terminal(n: number): Terminal {
    let t = this.terminals.get(n);
    if (t === undefined) this.terminals.set(n, (t = new Terminal(n, this.workspace.dir, this.workspace.toDoc)));
    return t;
  }

  private async runStep(step: Step, transcript: Transcript): Promise<Failure | null> {
    const terminal = this.terminal(step.terminal);
    const fail = (message: string, rest: string[] = []): Failure => ({ doc: this.plan.doc, line: step.line, step, target: this.plan.target, message, rest });
    let source: OutputSource;
    try {
      source = await this.perform(step, terminal);
    } catch (err) {
      if (err instanceof StepFailure) return fail(err.message, err.rest);
      // A hang, a reply that never came, a redis-cli command the emulator does not know.
      return fail((err as Error).message, terminal.pendingOutput().pending());
    }
    const compare = step.input.kind !== 'shell' || step.input.compare;
    if (!compare) return null;
    const mismatch = await matchOutput(step.expected, source, transcript.anyOrder);
    if (mismatch === null) return null;
    const rest = [...source.complete, ...(source.stream?.pending() ?? [])];
    return { doc: this.plan.doc, line: mismatchLine(mismatch, step), step, target: this.plan.target, mismatch, rest };
  }

  /** Does what the step types; returns where its output is to be read from. */
  private async perform(step: Step, terminal: Terminal): Promise<OutputSource> {
    const input = step.input;
    const from = (complete: string[], stream: OutputStream | null = terminal.background): OutputSource => ({ complete, stream, waitMs: this.options.waitMs });
    switch (input.kind) {
      case 'file': {
        await this.workspace.portsFor(input.content);
        this.files.set(input.name, input.content);
        writeFileSync(join(this.workspace.dir, input.name), this.workspace.toReal(input.content));
        return from([], null);
      }
      case 'look':
        return from([], terminal.pendingOutput());
      case 'nc': {
        const fg = terminal.foreground;
        if (fg?.kind !== 'nc') throw new StepFailure(`a "> " line types into an open nc session, but terminal ${terminal.number} has ${terminal.describeForeground()}`);
        await this.workspace.portsFor(input.text);
        fg.nc.type(this.workspace.toReal(input.text));
        return from([], fg.nc.output);
      }
      case 'key':
        return this.pressKey(input.key, terminal, from);
      case 'cli':
        return this.typeAtPrompt(input.prompt, input.text, terminal, from);
      case 'shell':
        return this.typeInShell(input.command, terminal, from);
    }
  }

  private async typeInShell(command: string, terminal: Terminal, from: (c: string[], s?: OutputStream | null) => OutputSource): Promise<OutputSource> {
    await this.waitForShellPrompt(terminal);
    const line = classifyShellLine(command, this.plan.steps);
    await this.workspace.portsFor(command);
    switch (line.kind) {
      case 'server':
        return from(await this.startServer(command, line, terminal));
      case 'redis-cli': {
        await this.ensureServers([line.docPort]);
        const output = new OutputStream(this.workspace.toDoc);
        const cli = new RedisCli({ host: line.host, port: await this.workspace.realPort(line.docPort), resp3: line.resp3 }, printer(output));
        if (line.args.length === 0) {
          await cli.startInteractive();
          terminal.foreground = { kind: 'cli', cli, output };
          return from(output.take());
        }
        await cli.connect(true);
        const args = line.args.map((a) => toBytes(this.workspace.toReal(a)));
        if ((await cli.run(args)) === 'streaming') {
          terminal.foreground = { kind: 'subscriber', cli, output };
          void cli.streamEnded().then(() => {
            if (terminal.foreground?.kind === 'subscriber' && terminal.foreground.cli === cli) terminal.foreground = null;
            output.close();
          });
          return from([], output);
        }
        cli.close();
        return from(output.take());
      }
      case 'nc': {
        await this.ensureServers(docPortsIn(command));
        const nc = new NcSession(`exec ${this.workspace.toReal(command)}`, this.workspace.dir, this.workspace.toDoc);
        terminal.foreground = { kind: 'nc', nc };
        return from([], nc.output);
      }
      case 'kill':
      case 'bash': {
        if (line.kind === 'bash') await this.ensureServers(this.portsTalkedTo(command));
        const printed = await terminal.bash().run(this.workspace.toReal(command));
        // A killed server is gone before the next line talks to its port, as for a reader.
        if (line.kind === 'kill') await this.serversGone(docPortsIn(command));
        const lines = printed === '' ? [] : printed.replace(/\n$/, '').split('\n');
        return from(lines.map(this.workspace.toDoc));
      }
    }
  }

  /** The doc ports a shell line talks to: in its text, and in the files it names that the doc had the reader save. */
  private portsTalkedTo(command: string): number[] {
    const ports = docPortsIn(command);
    for (const [name, text] of this.files) if (command.includes(name)) ports.push(...docPortsIn(text));
    return ports;
  }

  /** Waits (a little) for the servers on these doc ports to end. */
  private async serversGone(ports: number[]): Promise<void> {
    await Promise.all(this.servers.filter((s) => ports.includes(s.docPort)).map((s) => s.group.finished(5000)));
  }

  /** A `$` line needs the shell: whatever was open in the terminal must have ended by itself. */
  private async waitForShellPrompt(terminal: Terminal): Promise<void> {
    const fg = terminal.foreground;
    if (fg === null) return;
    if (fg.kind === 'nc' && (await fg.nc.group.finished(2000))) {
      terminal.foreground = null;
      const left = fg.nc.output.take();
      if (left.length > 0) throw new StepFailure('nc printed lines the doc does not show before this one', left);
      return;
    }
    if (fg.kind === 'subscriber') {
      const ended = await Promise.race([fg.cli.streamEnded().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
      if (ended && terminal.foreground === null) return;
    }
    throw new StepFailure(`terminal ${terminal.number} still has ${terminal.describeForeground()} open: a shell command cannot be typed there (show ^C, ^D or quit first)`, terminal.pendingOutput().pending());
  }

  /** `make 03-get-set`, `npx tsx 03-get-set/server.ts`, `redis-server ...`: runs in the background, its startup log is the output. */
  private async startServer(command: string, line: Extract<ShellLine, { kind: 'server' }>, terminal: Terminal): Promise<string[]> {
    const port = await this.workspace.realPort(line.docPort);
    // The port is added at the end: after the command, not inside a comment that ends it.
    let script = this.workspace.toReal(withoutComment(command));
    if (line.program === 'make') {
      // Never `npm ci` from a replay: node_modules is the workshop's own, shared.
      script = script.replace(/^make\b/, 'make -o node_modules/.installed');
      if (!line.portGiven) script += ` PORT=${port}`;
    } else if (!line.portGiven) {
      script += ` --port ${port}`;
    }
    const server = new ServerProcess(`exec ${script}`, this.workspace.dir, this.workspace.toDoc, line.docPort);
    this.servers.push(server);
    terminal.servers.push(server);
    this.served.add(line.docPort);
    const { lines } = await server.startup();
    server.output.redirect(terminal.background);
    return lines;
  }

  /** Starts the doc's step (or real Redis, in an also-redis session) on each doc port nothing was started on. */
  private async ensureServers(ports: number[]): Promise<void> {
    for (const docPort of new Set(ports)) {
      if (!isStepPort(docPort) || this.served.has(docPort)) continue;
      this.served.add(docPort);
      const port = await this.workspace.realPort(docPort);
      if (this.plan.target === 'redis') {
        const redis = await startRealRedis([], join(this.workspace.dir, 'data'), port);
        trackChild(redis.process);
        this.redises.push(redis);
        continue;
      }
      const server = new ServerProcess(`exec make -o node_modules/.installed ${this.plan.step} PORT=${port}`, this.workspace.dir, this.workspace.toDoc, docPort);
      this.servers.push(server);
      const { ready, lines } = await server.startup();
      if (!ready) throw new StepFailure(`the ${this.plan.step} server for port ${docPort} (started because this line talks to it) did not start`, lines);
    }
  }

  /** A line typed at a redis-cli prompt; with no redis-cli open, the prompt's host and port open one. */
  private async typeAtPrompt(prompt: string, text: string, terminal: Terminal, from: (c: string[], s?: OutputStream | null) => OutputSource): Promise<OutputSource> {
    let fg = terminal.foreground;
    let opening: string[] = [];
    if (fg === null) {
      const address = /^(\[[^\]]+\]|[^:]+):(\d+)/.exec(prompt);
      if (address === null) throw new StepFailure(`no redis-cli is open in terminal ${terminal.number}, and "${prompt}>" names no host and port to open one`);
      const docPort = Number(address[2]);
      await this.ensureServers([docPort]);
      const output = new OutputStream(this.workspace.toDoc);
      const host = address[1]!.replace(/^\[|\]$/g, '');
      const cli = new RedisCli({ host, port: await this.workspace.realPort(docPort), resp3: false }, printer(output));
      await cli.startInteractive();
      fg = terminal.foreground = { kind: 'cli', cli, output };
      opening = output.take();
    }
    if (fg.kind !== 'cli' || fg.cli.isStreaming) {
      throw new StepFailure(`a prompt line, but terminal ${terminal.number} has ${terminal.describeForeground()}`, terminal.pendingOutput().pending());
    }
    const shown = this.workspace.toDoc(fg.cli.prompt()).replace(/> $/, '');
    if (shown !== prompt) throw new StepFailure(`the prompt is "${shown}>" here, not "${prompt}>"`);
    await this.workspace.portsFor(text);
    const outcome = await fg.cli.typeLine(toBytes(this.workspace.toReal(text)));
    if (outcome === 'exit') {
      fg.cli.close();
      terminal.foreground = null;
    }
    if (outcome === 'streaming') {
      // The server closing the subscriber's connection ends redis-cli, even an interactive one.
      const { cli } = fg;
      void cli.streamEnded().then((ended) => {
        if (ended === 'exit' && terminal.foreground?.kind === 'cli' && terminal.foreground.cli === cli) terminal.foreground = null;
      });
      return from([...opening, ...fg.output.take()], fg.output);
    }
    return from([...opening, ...fg.output.take()]);
  }

  /** ^C and ^D: to what is open in the terminal, else (^C) to the last server started in it. */
  private async pressKey(key: '^C' | '^D', terminal: Terminal, from: (c: string[], s?: OutputStream | null) => OutputSource): Promise<OutputSource> {
    const fg = terminal.foreground;
    if (fg?.kind === 'nc') {
      if (key === '^D') fg.nc.endInput();
      else fg.nc.group.signal('SIGINT');
      if (!(await fg.nc.group.finished(5000))) return from([], fg.nc.output); // nc without -N goes on waiting
      terminal.foreground = null;
      return from(fg.nc.output.take(), null);
    }
    if (fg !== null) {
      if (key === '^D' && fg.kind === 'subscriber') throw new StepFailure('^D does nothing to a redis-cli reading messages: show ^C');
      const outcome = key === '^D' ? 'exit' : await fg.cli.interrupt();
      if (outcome === 'exit') {
        fg.cli.close();
        terminal.foreground = null;
        fg.output.close();
      }
      return from(fg.output.take(), outcome === 'exit' ? null : terminal.background);
    }
    if (key === '^D') throw new StepFailure(`^D, but nothing is open in terminal ${terminal.number}`);
    const server = [...terminal.servers].reverse().find((s) => s.group.running);
    if (server === undefined) throw new StepFailure(`^C, but nothing runs in terminal ${terminal.number}`);
    server.group.signal('SIGINT');
    if (!(await server.group.finished(10_000))) throw new StepFailure('the server did not stop within 10 s of ^C', terminal.background.pending());
    return from(terminal.background.take(), null);
  }

  private async close(): Promise<void> {
    for (const t of this.terminals.values()) await t.close();
    await Promise.all(this.servers.map((s) => s.group.stop()));
    await Promise.all(this.redises.map((r) => r.stop()));
    this.workspace.remove();
  }
}
