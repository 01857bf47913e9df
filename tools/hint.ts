// Hints one at a time (`make hint STEP=05 EX=1`). Each exercise's hints live beside its
// reference solution, solutions/NN-step/ID.hints.md, one "## Hint N" section each, gentle
// first: out of the learner's way until asked for. This prints the first hint not shown
// yet, says how many remain, and remembers what it showed in .hints-shown.json at the
// workshop's root (git-ignored; HINT_STATE=<file> puts it elsewhere, as the tests do), so
// the next run gives the next one.
//
//   make hint STEP=05 EX=1            the next hint
//   make hint STEP=05 EX=1 HINT=2     hint 2, again
//   make hint STEP=05 EX=1 RESET=1    forget what was shown, and show hint 1
//
// Usage: node --import tsx tools/hint.ts <STEP> <EX> [--hint N] [--reset]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';

export const USAGE = 'usage: make hint STEP=05 EX=1 (HINT=2 shows hint 2 again, RESET=1 starts over)';

/** The state file, at the workshop's root. */
export const STATE_FILE = '.hints-shown.json';

const HINT_HEADING = /^## Hint (\d+)[ \t]*$/gm;

/**
 * The hints of a hints file, in order: the text of each "## Hint N" section. Throws if the
 * sections are not numbered 1, 2, 3, ... or one is empty.
 */
export function parseHints(text: string): string[] {
  const headings = [...text.matchAll(HINT_HEADING)];
  return headings.map((heading, i) => {
    if (Number(heading[1]) !== i + 1) throw new Error(`"## Hint ${heading[1]}" where "## Hint ${i + 1}" was expected`);
    const body = text.slice(heading.index + heading[0].length, headings[i + 1]?.index ?? text.length).trim();
    if (body === '') throw new Error(`Hint ${i + 1} is empty`);
    return body;
  });
}

/**
 * What an EXERCISES.md says about hints, by exercise number: for each "## Exercise N"
 * section, the `make hint STEP=.. EX=..` it names and the count of hints it states
 * ("... the first of its 4 hints ..."), or undefined where it names none.
 */
export function statedHints(exercisesMd: string): Map<number, { step: string; ex: number; count?: number }> {
  const stated = new Map<number, { step: string; ex: number; count?: number }>();
  const sections = exercisesMd.split(/^(?=## Exercise \d+)/m).slice(1);
  for (const section of sections) {
    const number = Number(/^## Exercise (\d+)/.exec(section)![1]);
    const mention = /`make hint STEP=(\d+) EX=(\d+)`([^.]*)/.exec(section);
    if (mention === null) continue;
    const count = /\b(\d+) hints?\b/.exec(mention[3]!);
    stated.set(number, { step: mention[1]!, ex: Number(mention[2]), count: count ? Number(count[1]) : undefined });
  }
  return stated;
}

/** An exercise as the hint tool finds it, from STEP and EX. */
interface Target {
  step: string; // 05-aof-persistence
  id: string; // 1-rewriteaof
  title?: string; // REWRITEAOF, compacting the file
}

class UsageError extends Error {}

/** The step folder and exercise that STEP=05 EX=1 name; throws a UsageError with a reason. */
function findTarget(root: string, stepArg: string | undefined, exArg: string | undefined): Target {
  if (!stepArg || !exArg) throw new UsageError(USAGE);
  if (!/^\d{1,2}$/.test(stepArg)) throw new UsageError(`STEP=${stepArg} is not a step number; ${USAGE}`);
  if (!/^\d{1,2}$/.test(exArg)) throw new UsageError(`EX=${exArg} is not an exercise number; ${USAGE}`);
  const prefix = stepArg.padStart(2, '0');
  const step = readdirSync(root).find((name) => name.startsWith(`${prefix}-`) && existsSync(join(root, name, 'exercises')));
  if (step === undefined) throw new UsageError(`no step ${prefix} with exercises; ${USAGE}`);
  const ids = readdirSync(join(root, step, 'exercises'))
    .filter((f) => f.endsWith('.check.ts'))
    .map((f) => f.slice(0, -'.check.ts'.length));
  const id = ids.find((i) => parseInt(i, 10) === Number(exArg));
  if (id === undefined) {
    const numbers = ids.map((i) => parseInt(i, 10)).sort((a, b) => a - b);
    throw new UsageError(`step ${prefix} has no exercise ${exArg} (it has ${numbers.join(', ')}); ${USAGE}`);
  }
  const exercisesMd = join(root, step, 'EXERCISES.md');
  const title = existsSync(exercisesMd) ? new RegExp(`^## Exercise ${parseInt(id, 10)}: (.+)$`, 'm').exec(readFileSync(exercisesMd, 'utf8'))?.[1] : undefined;
  return { step, id, title };
}

type Shown = Record<string, number[]>;

function readState(path: string): Shown {
  if (!existsSync(path)) return {};
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof state === 'object' && state !== null ? (state as Shown) : {};
  } catch {
    return {}; // a damaged state file only forgets which hints were shown
  }
}

export interface HintOptions {
  root: string;
  /** Where the shown hints are remembered; <root>/.hints-shown.json by default. */
  statePath?: string;
  print: (line: string) => void;
  /** Where a usage error goes (stderr from the command line); `print` by default. */
  printError?: (line: string) => void;
}

/**
 * Runs `make hint`: `args` are STEP, EX, and optionally --hint N and --reset. Prints the
 * hint (or a one-line usage error) and resolves with the exit code.
 */
export function hint(args: readonly string[], options: HintOptions): number {
  const { root, print } = options;
  const printError = options.printError ?? print;
  const statePath = options.statePath ?? join(root, STATE_FILE);
  const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--hint');
  const hintIndex = args.indexOf('--hint');
  const asked = hintIndex === -1 ? undefined : args[hintIndex + 1];
  let target: Target;
  try {
    target = findTarget(root, positional[0], positional[1]);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`hint: ${err.message}`);
    return 2;
  }

  const prefix = target.step.slice(0, 2);
  const exercise = parseInt(target.id, 10);
  const command = `make hint STEP=${prefix} EX=${exercise}`;
  const hintsPath = `solutions/${target.step}/${target.id}.hints.md`;
  const solution = `solutions/${target.step}/${target.id}.patch`;
  if (!existsSync(join(root, hintsPath))) {
    printError(`hint: exercise ${exercise} of step ${prefix} has no hints (${hintsPath} is missing)`);
    return 1;
  }
  const hints = parseHints(readFileSync(join(root, hintsPath), 'utf8'));
  const key = `${target.step}/${target.id}`;
  const state = readState(statePath);
  if (args.includes('--reset')) delete state[key];
  const shown = new Set(Array.isArray(state[key]) ? state[key].filter((n) => Number.isInteger(n)) : []);

  let number: number;
  if (asked !== undefined) {
    number = /^\d+$/.test(asked) ? Number(asked) : NaN;
    if (!(number >= 1 && number <= hints.length)) {
      printError(`hint: HINT=${asked} is not a hint of exercise ${exercise} (it has hints 1 to ${hints.length}); ${USAGE}`);
      return 2;
    }
  } else {
    const next = hints.findIndex((_, i) => !shown.has(i + 1));
    if (next === -1) {
      print(`All ${hints.length} hints of step ${prefix}, exercise ${exercise} were shown; the reference solution is ${solution}.`);
      print(`\`${command} HINT=2\` shows hint 2 again, \`${command} RESET=1\` starts over.`);
      return 0;
    }
    number = next + 1;
  }

  shown.add(number);
  state[key] = [...shown].sort((a, b) => a - b);
  writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);

  const title = target.title ? `: ${target.title}` : '';
  print(`Step ${prefix}, exercise ${exercise}${title}`);
  print(`Hint ${number} of ${hints.length}`);
  print('');
  print(hints[number - 1]!);
  print('');
  const remaining = hints.filter((_, i) => !shown.has(i + 1)).length;
  if (remaining > 0) {
    print(`${remaining} more ${remaining === 1 ? 'hint' : 'hints'} to go: \`${command}\` shows the next.`);
  } else {
    print(`No hints left. The reference solution: ${solution}`);
    print('(`git apply` it to see it in place, `git apply -R` to take it out again).');
  }
  return 0;
}

if (isMain(import.meta.url)) {
  // `make hint ... | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  process.exitCode = hint(process.argv.slice(2), {
    root,
    statePath: process.env.HINT_STATE,
    print: (line) => console.log(line),
    printError: (line) => console.error(line),
  });
}
