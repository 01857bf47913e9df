// The doc check (`make docs`, part of `make test`). Docs drift from code silently, so a
// machine checks what it can:
//   1. every step folder has its four documents, none empty;
//   2. every relative Markdown link (and image) points at a file that exists, and a
//      #fragment at a heading that exists;
//   3. every GUIDE/README code excerpt whose fence names a file (```ts server.ts) appears
//      verbatim in that file, fragments separated by `// ...` lines in file order (a ts
//      fence naming a file that does not exist is one the reader saves, when the doc runs
//      it with `npx tsx NAME.ts`: the transcript replay writes it);
//   4. every `make <target>` command the docs show (in inline code or a shell fence; prose
//      such as "make sure" is not a command) is a target of the Makefile.
// Problems print as `path:line: problem`, one per line; the exit code is 1 if there are any.
//
// Usage: npx tsx tools/check-docs.ts [repo-root]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';
import { isTranscriptTag } from './transcripts/tags.ts';

export interface Problem {
  /** Path relative to the repo root, with forward slashes. */
  path: string;
  line: number;
  problem: string;
}

export const formatProblem = (p: Problem): string => `${p.path}:${p.line}: ${p.problem}`;

/** Step folders: two digits, a dash, a name (01-tcp-echo). */
export function stepFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d\d-/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Step folders that have a server.ts: the steps built so far, in order. */
export function stepsWithServer(root: string): string[] {
  return stepFolders(root).filter((s) => existsSync(join(root, s, 'server.ts')));
}

/** Every Markdown file the learner may read: the top README, lib/, the steps, tools, tests. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      // data/ and results/ hold what servers and benchmarks wrote (git ignores both).
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'data' || entry.name === 'results') continue;
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('');
  return found.sort();
}

// ---------------------------------------------------------------------------------------
// Reading Markdown: which lines are prose and which are inside a code fence

export interface Fence {
  /** Line number (1-based) of the opening ``` line. */
  line: number;
  info: string;
  /** The lines between the fences, with their own line numbers. */
  body: Array<{ line: number; text: string }>;
}

export interface ParsedMarkdown {
  /** Lines outside any fence, with inline code spans still in them. */
  prose: Array<{ line: number; text: string }>;
  fences: Fence[];
}

export function parseMarkdown(text: string): ParsedMarkdown {
  const prose: ParsedMarkdown['prose'] = [];
  const fences: Fence[] = [];
  let open: { fence: Fence; marker: string } | null = null;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const textLine = raw.replace(/\r$/, '');
    const marker = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(textLine);
    if (open === null) {
      if (marker && !(marker[1]!.startsWith('`') && marker[2]!.includes('`'))) {
        open = { fence: { line, info: marker[2]!.trim(), body: [] }, marker: marker[1]! };
      } else {
        prose.push({ line, text: textLine });
      }
    } else if (marker && marker[1]![0] === open.marker[0] && marker[1]!.length >= open.marker.length && marker[2]!.trim() === '') {
      fences.push(open.fence);
      open = null;
    } else {
      open.fence.body.push({ line, text: textLine });
    }
  });
  // An unclosed fence runs to the end of the document, as Markdown renders it.
  if (open !== null) fences.push((open as { fence: Fence }).fence);
  return { prose, fences };
}

/** Prose with inline code spans blanked out (links inside `code` are not links). */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, (span) => ' '.repeat(span.length));
}

/** The inline code spans of a prose line. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)([\s\S]*?)\1/g)].map((m) => m[2]!.trim());
}

// ---------------------------------------------------------------------------------------
// Rule 1: the four documents

const STEP_DOCUMENTS = ['README.md', 'GUIDE.md', 'EXERCISES.md', 'server.ts'];

export function checkRequiredDocuments(root: string): Problem[] {
  const problems: Problem[] = [];
  const required = ['README.md', 'lib/README.md'];
  for (const step of stepFolders(root)) {
    for (const doc of STEP_DOCUMENTS) {
      // The capstone is a load generator, not a server.
      if (doc === 'server.ts' && step === '10-capstone') continue;
      required.push(`${step}/${doc}`);
    }
  }
  for (const path of required) {
    const full = join(root, path);
    if (!existsSync(full)) problems.push({ path, line: 1, problem: path.includes('/') && !path.startsWith('lib/') ? 'missing (every step has README.md, GUIDE.md, EXERCISES.md and server.ts)' : 'missing' });
    else if (readFileSync(full, 'utf8').trim() === '') problems.push({ path, line: 1, problem: 'is empty' });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Rule 2: relative links and images resolve

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -1 -2 for repeats. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of parseMarkdown(markdown).prose) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text stays, its target goes
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

/** The link targets on one prose line: [text](target), ![alt](target), [id]: target, src/href. */
export function linkTargets(line: string): string[] {
  const text = withoutCodeSpans(line);
  const targets: string[] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+["'(][^)]*)?\)/g)) targets.push(m[1]!);
  const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
  if (definition) targets.push(definition[1]!);
  for (const m of text.matchAll(/\b(?:src|href)\s*=\s*"([^"]+)"/g)) targets.push(m[1]!);
  return targets.map((t) => (t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t));
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

export function checkLinks(root: string, files: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const slugCache = new Map<string, Set<string>>();
  const slugsOf = (full: string) => {
    if (!slugCache.has(full)) slugCache.set(full, headingSlugs(readFileSync(full, 'utf8')));
    return slugCache.get(full)!;
  };
  for (const path of files) {
    const full = join(root, path);
    for (const { line, text } of parseMarkdown(readFileSync(full, 'utf8')).prose) {
      for (const target of linkTargets(text)) {
        if (isExternal(target)) continue;
        const [file = '', fragment] = target.split('#', 2);
        const linked = file === '' ? full : resolve(dirname(full), decodeURIComponent(file));
        if (file !== '' && !existsSync(linked)) {
          problems.push({ path, line, problem: `link to ${target}: ${relativePath(root, linked)} does not exist` });
          continue;
        }
        if (fragment && linked.endsWith('.md') && statSync(linked).isFile() && !slugsOf(linked).has(fragment.toLowerCase())) {
          problems.push({ path, line, problem: `link to ${target}: no heading with anchor #${fragment} in ${relativePath(root, linked)}` });
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Rule 3: code excerpts match the source they name

/** A line that stands for "code left out here" between two excerpt fragments. */
const isElision = (text: string) => text.trim() === '// ...';

/** The file an excerpt fence names: the word after the language (```ts server.ts), unless it is a transcript's tag. */
export function excerptSource(info: string): string | undefined {
  const word = info.split(/\s+/)[1];
  return word === undefined || isTranscriptTag(word) ? undefined : word;
}

/** A ts fence naming a file that does not exist is one the reader saves, if the doc then runs it (npx tsx try.ts). */
function savedByReader(info: string, source: string, doc: string): boolean {
  const escaped = source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return /^(ts|typescript)$/.test(info.split(/\s+/)[0]!) && new RegExp(`\\btsx ${escaped}\\b`).test(doc);
}

/**
 * Checks one excerpt against the source's lines. Fragments must each appear as consecutive
 * lines (trailing spaces ignored), in file order. Returns a problem description, or null.
 */
export function matchExcerpt(
  excerpt: ReadonlyArray<{ line: number; text: string }>,
  source: readonly string[],
): { line: number; problem: string } | null {
  const fragments: Array<Array<{ line: number; text: string }>> = [[]];
  for (const entry of excerpt) {
    if (isElision(entry.text)) fragments.push([]);
    else fragments[fragments.length - 1]!.push(entry);
  }
  const lines = source.map((l) => l.trimEnd());
  let from = 0; // the next fragment must start at or after this source line (0-based)
  for (const fragment of fragments) {
    // Blank lines at the edges of a fragment are layout, not content.
    while (fragment.length > 0 && fragment[0]!.text.trim() === '') fragment.shift();
    while (fragment.length > 0 && fragment[fragment.length - 1]!.text.trim() === '') fragment.pop();
    if (fragment.length === 0) continue;
    const want = fragment.map((f) => f.text.trimEnd());
    const at = findLines(lines, want, from);
    if (at >= 0) {
      from = at + want.length;
      continue;
    }
    // Not found: report the first excerpt line that breaks the longest match.
    const { length } = longestPrefixMatch(lines, want, from);
    const bad = fragment[length]!;
    const earlier = findLines(lines, want, 0);
    const problem =
      earlier >= 0
        ? `fragment appears at source line ${earlier + 1}, before the previous fragment (fragments must be in file order)`
        : `line not in source${from > 0 ? ` (after source line ${from})` : ''}: ${JSON.stringify(bad.text.trim())}`;
    return { line: earlier >= 0 ? fragment[0]!.line : bad.line, problem };
  }
  return null;
}

function findLines(lines: readonly string[], want: readonly string[], from: number): number {
  for (let i = from; i + want.length <= lines.length; i++) {
    if (want.every((w, k) => lines[i + k] === w)) return i;
  }
  return -1;
}

function longestPrefixMatch(lines: readonly string[], want: readonly string[], from: number): { length: number } {
  let best = 0;
  for (let i = from; i < lines.length; i++) {
    let k = 0;
    while (k < want.length && i + k < lines.length && lines[i + k] === want[k]) k++;
    best = Math.max(best, k);
  }
  return { length: Math.min(best, want.length - 1) };
}

export function checkExcerpts(root: string, files: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const path of files.filter((f) => /(^|\/)(GUIDE|README)\.md$/.test(f))) {
    const full = join(root, path);
    const doc = readFileSync(full, 'utf8');
    for (const fence of parseMarkdown(doc).fences) {
      const source = excerptSource(fence.info);
      if (source === undefined) continue;
      const sourcePath = resolve(dirname(full), source);
      if (!existsSync(sourcePath) && savedByReader(fence.info, source, doc)) continue; // the transcript replay writes it
      if (!existsSync(sourcePath) || !statSync(sourcePath).isFile()) {
        problems.push({ path, line: fence.line, problem: `excerpt names ${source}, which does not exist (${relativePath(root, sourcePath)})` });
        continue;
      }
      const mismatch = matchExcerpt(fence.body, readFileSync(sourcePath, 'utf8').split('\n'));
      if (mismatch) problems.push({ path, line: mismatch.line, problem: `excerpt of ${source} does not match: ${mismatch.problem}` });
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Rule 4: `make <target>` names a Makefile target

/** The targets a Makefile defines; $(STEPS) is every step folder with a server.ts. */
export function makefileTargets(root: string): Set<string> {
  const targets = new Set<string>();
  const makefile = join(root, 'Makefile');
  if (!existsSync(makefile)) return targets;
  const steps = stepsWithServer(root);
  const variables = new Map<string, string[]>([['STEPS', steps]]);
  for (const line of readFileSync(makefile, 'utf8').split('\n')) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)\s*[:?]?=\s*(.*)$/.exec(line);
    if (assignment) {
      if (!variables.has(assignment[1]!)) variables.set(assignment[1]!, assignment[2]!.trim().split(/\s+/));
      continue;
    }
    const rule = /^([^\s#:=][^:=]*?)\s*::?(?!=)/.exec(line);
    if (!rule) continue;
    for (const word of rule[1]!.split(/\s+/)) {
      const variable = /^\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]$/.exec(word);
      for (const target of variable ? (variables.get(variable[1]!) ?? []) : [word]) {
        if (!target.startsWith('.')) targets.add(target);
      }
    }
  }
  return targets;
}

/**
 * The targets named by `make ...` commands in a piece of shell text: at the start, after a
 * `$ ` prompt, after `&&`, `;` or `|`, optionally after VAR=value assignments. Placeholders
 * (`make NN-step`, `make <step>`) are not targets.
 */
export function makeTargetsIn(shell: string): string[] {
  const targets: string[] = [];
  for (const command of shell.split(/&&|\|\||[;|]/)) {
    // Quoted arguments are values (ARGS="--port 6381"), never targets.
    const unquoted = command.replace(/"[^"]*"|'[^']*'/g, '""').replace(/#.*$/, '');
    const words = unquoted.trim().replace(/^\$\s+/, '').split(/\s+/);
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
    if (words.shift() !== 'make') continue;
    for (const word of words) {
      if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
      if (/^NN\b|[<>{}$[\]…]|\.\.\./.test(word)) continue;
      if (/^[A-Za-z0-9][\w./-]*$/.test(word)) targets.push(word);
    }
  }
  return targets;
}

const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'console', 'shell-session', 'text', 'make']);

export function checkMakeTargets(root: string, files: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const targets = makefileTargets(root);
  for (const path of files) {
    const { prose, fences } = parseMarkdown(readFileSync(join(root, path), 'utf8'));
    const mentions: Array<{ line: number; text: string }> = [];
    for (const { line, text } of prose) for (const span of codeSpans(text)) mentions.push({ line, text: span });
    for (const fence of fences) {
      if (SHELL_FENCES.has(fence.info.split(/\s+/)[0]!.toLowerCase())) mentions.push(...fence.body);
    }
    for (const { line, text } of mentions) {
      for (const target of makeTargetsIn(text)) {
        if (!targets.has(target)) problems.push({ path, line, problem: `\`make ${target}\`: the Makefile has no target ${target}` });
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------

export function checkDocs(root: string): Problem[] {
  const files = markdownFiles(root);
  return [
    ...checkRequiredDocuments(root),
    ...checkLinks(root, files),
    ...checkExcerpts(root, files),
    ...checkMakeTargets(root, files),
  ].sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line);
}

function relativePath(root: string, full: string): string {
  return relative(root, full).split(sep).join('/');
}

if (isMain(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const problems = checkDocs(root);
  for (const p of problems) console.log(formatProblem(p));
  const checked = markdownFiles(root).length;
  console.log(problems.length === 0 ? `docs: ${checked} Markdown files checked, no problems` : `docs: ${problems.length} problem(s) in ${checked} Markdown files`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
