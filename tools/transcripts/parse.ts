// Reading a doc's transcripts: which fences are transcripts, their tags, and each line's
// role (typed in a shell, at a redis-cli prompt or into nc; a key; a terminal switch; or
// output expected from what was typed before it). The format is described in
// tools/replay-transcripts.ts and tools/README.md.
import { parseMarkdown, type Fence } from '../check-docs.ts';
import { classifyShellLine } from './shell-words.ts';
import { NO_REPLAY, TRANSCRIPT_TAGS } from './tags.ts';

export interface ExpectedLine {
  line: number;
  text: string;
}

export type Input =
  | { kind: 'shell'; command: string; compare: boolean }
  | { kind: 'cli'; prompt: string; text: string }
  | { kind: 'nc'; text: string }
  | { kind: 'key'; key: '^C' | '^D' }
  /** Output shown after `# terminal N` with nothing typed: what that terminal printed meanwhile. */
  | { kind: 'look' }
  | { kind: 'file'; name: string; content: string };

export interface Step {
  /** The doc line of what was typed (of the first output line, for a look). */
  line: number;
  terminal: number;
  input: Input;
  expected: ExpectedLine[];
}

export interface Transcript {
  doc: string;
  /** The line of the opening fence. */
  line: number;
  /** `continued`: part of the previous transcript's session. */
  continued: boolean;
  alsoRedis: boolean;
  anyOrder: boolean;
  noReplay?: string;
  /** 'commands': a sh fence without prompts; 'file': a ts file the reader saves. */
  kind: 'transcript' | 'commands' | 'file';
  steps: Step[];
}

export interface DocProblem {
  line: number;
  problem: string;
}

const TRANSCRIPT_LANGUAGES = new Set(['text', 'sh', 'shell', 'bash', 'console']);
const COMMAND_LANGUAGES = new Set(['sh', 'shell', 'bash']);

/** `127.0.0.1:6380> `, `localhost:6381[1](TX)> `, `not connected> `: a redis-cli prompt and what follows it. */
export const CLI_PROMPT = /^((?:[\w.-]+|\[[\da-fA-F:]+\]):\d+(?:\[\d+\])?(?:\(TX\))?|not connected)> ?(.*)$/;
const TERMINAL = /^# terminal (\d+)$/;
const SHELL = /^\$(?: (.*))?$/;

interface Tags {
  language: string;
  file?: string;
  continued: boolean;
  alsoRedis: boolean;
  anyOrder: boolean;
  noReplay?: string;
  unknown: string[];
}

/** The words after a fence's language: a file name (ts fences), tags, `no-replay: reason`. */
export function fenceTags(info: string): Tags {
  const noReplayAt = info.indexOf(NO_REPLAY);
  const noReplay = noReplayAt >= 0 ? info.slice(noReplayAt + NO_REPLAY.length).trim() : undefined;
  const [language = '', ...words] = (noReplayAt >= 0 ? info.slice(0, noReplayAt) : info).trim().split(/\s+/);
  const tags: Tags = { language: language.toLowerCase(), continued: false, alsoRedis: false, anyOrder: false, noReplay, unknown: [] };
  for (const word of words) {
    if (word === 'continued') tags.continued = true;
    else if (word === 'also-redis') tags.alsoRedis = true;
    else if (word === 'any-order') tags.anyOrder = true;
    else if (tags.file === undefined && /\.\w+$/.test(word)) tags.file = word;
    else tags.unknown.push(word);
  }
  return tags;
}

/** What a terminal has open, as far as the text shows: lines are read accordingly. */
interface TerminalMode {
  nc: boolean;
}

export interface ParsedDoc {
  transcripts: Transcript[];
  problems: DocProblem[];
}

export interface DocContext {
  /** The doc's path, for reports. */
  doc: string;
  /** Step folders with a server.ts (make targets that start a server). */
  steps: readonly string[];
  /** True when a file of this name exists next to the doc (then a ts fence naming it is an excerpt). */
  fileExists(name: string): boolean;
}

export function parseTranscripts(text: string, context: DocContext): ParsedDoc {
  const transcripts: Transcript[] = [];
  const problems: DocProblem[] = [];
  let modes = new Map<number, TerminalMode>();
  for (const fence of parseMarkdown(text).fences) {
    const tags = fenceTags(fence.info);
    const transcript = readFence(fence, tags, context, problems, tags.continued ? modes : (modes = new Map()));
    if (transcript === null) continue;
    if (tags.unknown.length > 0) {
      problems.push({ line: fence.line, problem: `unknown word(s) after the fence's language: ${tags.unknown.join(' ')} (known: ${TRANSCRIPT_TAGS.join(', ')}, no-replay: reason)` });
    }
    if (transcript.continued && transcripts.length === 0) {
      problems.push({ line: fence.line, problem: '`continued`, but no transcript comes before it in this doc' });
    }
    transcripts.push(transcript);
  }
  return { transcripts, problems };
}

function readFence(fence: Fence, tags: Tags, context: DocContext, problems: DocProblem[], modes: Map<number, TerminalMode>): Transcript | null {
  const base = { doc: context.doc, line: fence.line, continued: tags.continued, alsoRedis: tags.alsoRedis, anyOrder: tags.anyOrder, noReplay: tags.noReplay };
  if (tags.language === 'ts' || tags.language === 'typescript') {
    if (tags.file !== undefined && context.fileExists(tags.file)) return null; // an excerpt, checked by check-docs
    if (tags.file === undefined) {
      if (tags.noReplay === undefined) {
        problems.push({ line: fence.line, problem: 'a ts fence without a file name: name the file it is excerpted from (```ts server.ts), or the file the reader saves it as (```ts try.ts), or tag it `no-replay: reason`' });
      }
      return tags.noReplay === undefined ? null : { ...base, kind: 'file', steps: [] };
    }
    if (tags.file.includes('/')) {
      problems.push({ line: fence.line, problem: `${tags.file}: a file the reader saves is named without a folder (it is written to the workshop folder)` });
      return null;
    }
    const content = fence.body.map((b) => b.text).join('\n') + '\n';
    return { ...base, kind: 'file', steps: [{ line: fence.line, terminal: 1, input: { kind: 'file', name: tags.file, content }, expected: [] }] };
  }
  if (!TRANSCRIPT_LANGUAGES.has(tags.language)) return null;
  const tagged = tags.continued || tags.alsoRedis || tags.anyOrder || tags.noReplay !== undefined;
  const hasPrompt = fence.body.some((b) => SHELL.test(b.text) || CLI_PROMPT.test(b.text));
  if (!hasPrompt && COMMAND_LANGUAGES.has(tags.language) && fence.body.some((b) => b.text.trim() !== '')) {
    return { ...base, kind: 'commands', steps: commandSteps(fence) };
  }
  if (!hasPrompt && !tagged) return null;
  return { ...base, kind: 'transcript', steps: transcriptSteps(fence, tags.continued, context, problems, modes) };
}

/** A sh fence without prompts: each line a command, its output not shown (so not compared). */
function commandSteps(fence: Fence): Step[] {
  const steps: Step[] = [];
  let terminal = 1;
  for (const { line, text } of joinContinuations(fence.body)) {
    const switchTo = TERMINAL.exec(text.trim());
    if (switchTo) terminal = Number(switchTo[1]);
    else if (text.trim() !== '' && !text.trim().startsWith('#')) steps.push({ line, terminal, input: { kind: 'shell', command: text.trim(), compare: false }, expected: [] });
  }
  return steps;
}

/** Lines ending in a backslash continue on the next line (a leading `> ` there is bash's PS2). */
function joinContinuations(body: Fence['body']): Fence['body'] {
  const out: Fence['body'] = [];
  let open: { line: number; text: string } | null = null;
  for (const { line, text } of body) {
    const piece = open === null ? text : text.replace(/^> /, '');
    const current: { line: number; text: string } = open === null ? { line, text: piece } : { line: open.line, text: open.text + piece };
    if (current.text.endsWith('\\')) {
      open = { line: current.line, text: current.text.slice(0, -1) };
    } else {
      out.push(current);
      open = null;
    }
  }
  if (open !== null) out.push(open);
  return out;
}

function transcriptSteps(fence: Fence, continued: boolean, context: DocContext, problems: DocProblem[], modes: Map<number, TerminalMode>): Step[] {
  const steps: Step[] = [];
  let terminal = 1; // every fence starts in terminal 1
  const last = new Map<number, Step>(); // the step whose output the next plain line continues, per terminal
  const mode = (n: number) => modes.get(n) ?? modes.set(n, { nc: false }).get(n)!;
  const add = (step: Step) => {
    steps.push(step);
    last.set(step.terminal, step);
  };
  for (const { line, text } of joinContinuations(fence.body)) {
    const switchTo = TERMINAL.exec(text.trim());
    if (switchTo) {
      terminal = Number(switchTo[1]);
      last.delete(terminal); // output shown next is what the terminal printed meanwhile
      continue;
    }
    const key = text.trim();
    if (key === '^C' || key === '^D') {
      add({ line, terminal, input: { kind: 'key', key }, expected: [] });
      mode(terminal).nc = false;
      continue;
    }
    if (mode(terminal).nc) {
      const nc = /^([<>])(?: (.*))?$/.exec(text);
      if (nc?.[1] === '>') {
        add({ line, terminal, input: { kind: 'nc', text: nc[2] ?? '' }, expected: [] });
        continue;
      }
      if (nc?.[1] === '<') {
        expectedOf(line, terminal).expected.push({ line, text: nc[2] ?? '' });
        continue;
      }
      if (!SHELL.test(text)) {
        problems.push({ line, problem: `inside an nc session, a line is "> typed", "< received", ^D or ^C: ${JSON.stringify(text)}` });
        continue;
      }
      mode(terminal).nc = false; // nc ended (the server closed): the shell prompt is back
    }
    const shell = SHELL.exec(text);
    if (shell) {
      const command = (shell[1] ?? '').trim();
      add({ line, terminal, input: { kind: 'shell', command, compare: true }, expected: [] });
      if (classifyShellLine(command, context.steps).kind === 'nc') mode(terminal).nc = true;
      continue;
    }
    const prompt = CLI_PROMPT.exec(text);
    if (prompt) {
      add({ line, terminal, input: { kind: 'cli', prompt: prompt[1]!, text: prompt[2]! }, expected: [] });
      continue;
    }
    expectedOf(line, terminal).expected.push({ line, text });
  }
  return steps;

  /** The step a plain line is output of: the last one typed in this terminal, or a look at it. */
  function expectedOf(line: number, n: number): Step {
    const step = last.get(n);
    if (step !== undefined) return step;
    if (steps.length === 0 && !continued) problems.push({ line, problem: 'output before anything is typed: start the transcript with "$ command" or a prompt line' });
    const look: Step = { line, terminal: n, input: { kind: 'look' }, expected: [] };
    add(look);
    return look;
  }
}
