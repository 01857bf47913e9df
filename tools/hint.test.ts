// `make hint`: one hint at a time, remembered in a state file; on a small repo of its own
// (and once through make, on this one, for the usage error and the exit code).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hint, parseHints, statedHints } from './hint.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

let dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hint-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A repo with step 01's exercises 1 (three hints) and 2 (one hint), and a state file of its own. */
function workshop(): { root: string; statePath: string } {
  const root = tempDir();
  const files: Record<string, string> = {
    '01-echo/EXERCISES.md': '# Step 01 exercises\n\n## Exercise 1: Shout back\n\nSome task.\n\n## Exercise 2: Count\n\nAnother.\n',
    '01-echo/exercises/1-shout.check.ts': '',
    '01-echo/exercises/2-count.check.ts': '',
    'solutions/01-echo/1-shout.hints.md': '# Hints\n\nRead them one at a time.\n\n## Hint 1\n\nLook at the bytes.\n\n## Hint 2\n\nNot the text.\n\n## Hint 3\n\nA copy.\n',
    'solutions/01-echo/2-count.hints.md': '## Hint 1\n\nCount.\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { root, statePath: join(tempDir(), 'shown.json') };
}

/** Runs the hint tool; resolves with its exit code and what it printed, stdout and stderr apart. */
function run(where: { root: string; statePath: string }, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = hint(args, { ...where, print: (l) => out.push(l), printError: (l) => err.push(l) });
  return { code, out: out.join('\n'), err };
}

describe('make hint', () => {
  it('prints the next hint not shown yet, says how many remain, then where the solution is', () => {
    const where = workshop();
    const first = run(where, '01', '1');
    expect(first.code).toBe(0);
    expect(first.out).toBe(
      'Step 01, exercise 1: Shout back\nHint 1 of 3\n\nLook at the bytes.\n\n2 more hints to go: `make hint STEP=01 EX=1` shows the next.',
    );
    expect(run(where, '01', '1').out).toBe(
      'Step 01, exercise 1: Shout back\nHint 2 of 3\n\nNot the text.\n\n1 more hint to go: `make hint STEP=01 EX=1` shows the next.',
    );
    const last = run(where, '1', '1'); // STEP=1 means step 01
    expect(last.out).toBe(
      'Step 01, exercise 1: Shout back\nHint 3 of 3\n\nA copy.\n\nNo hints left. The reference solution: solutions/01-echo/1-shout.patch\n' +
        '(`git apply` it to see it in place, `git apply -R` to take it out again).',
    );
    const none = run(where, '01', '1');
    expect(none.code).toBe(0);
    expect(none.out).toBe(
      'All 3 hints of step 01, exercise 1 were shown; the reference solution is solutions/01-echo/1-shout.patch.\n' +
        '`make hint STEP=01 EX=1 HINT=2` shows hint 2 again, `make hint STEP=01 EX=1 RESET=1` starts over.',
    );
  });

  it('keeps each exercise apart, in a state file it creates', () => {
    const where = workshop();
    expect(existsSync(where.statePath)).toBe(false);
    run(where, '01', '1');
    const other = run(where, '01', '2');
    expect(other.out).toMatch(/^Step 01, exercise 2: Count\nHint 1 of 1\n\nCount\.\n\nNo hints left\./);
    expect(JSON.parse(readFileSync(where.statePath, 'utf8'))).toEqual({ '01-echo/1-shout': [1], '01-echo/2-count': [1] });
    expect(run(where, '01', '1').out).toContain('Hint 2 of 3');
  });

  it('shows a given hint again with HINT=n, and starts over with RESET=1', () => {
    const where = workshop();
    run(where, '01', '1');
    run(where, '01', '1');
    expect(run(where, '01', '1', '--hint', '1').out).toContain('Hint 1 of 3\n\nLook at the bytes.\n\n1 more hint to go');
    expect(run(where, '01', '1').out).toContain('Hint 3 of 3');
    expect(run(where, '01', '1', '--reset').out).toContain('Hint 1 of 3\n\nLook at the bytes.\n\n2 more hints to go');
    expect(run(where, '01', '1').out).toContain('Hint 2 of 3');
  });

  it('answers a bad STEP, EX or HINT with one line of usage and a non-zero exit, and remembers nothing', () => {
    const where = workshop();
    const usage = 'usage: make hint STEP=05 EX=1 (HINT=2 shows hint 2 again, RESET=1 starts over)';
    const cases: Array<[string[], string]> = [
      [[], `hint: ${usage}`],
      [['01'], `hint: ${usage}`],
      [['x', '1'], `hint: STEP=x is not a step number; ${usage}`],
      [['09', '1'], `hint: no step 09 with exercises; ${usage}`],
      [['01', '9'], `hint: step 01 has no exercise 9 (it has 1, 2); ${usage}`],
      [['01', '1-shout'], `hint: EX=1-shout is not an exercise number; ${usage}`],
      [['01', '1', '--hint', '4'], `hint: HINT=4 is not a hint of exercise 1 (it has hints 1 to 3); ${usage}`],
      [['01', '1', '--hint', 'two'], `hint: HINT=two is not a hint of exercise 1 (it has hints 1 to 3); ${usage}`],
    ];
    for (const [args, line] of cases) {
      const result = run(where, ...args);
      expect(result, args.join(' ')).toEqual({ code: 2, out: '', err: [line] });
    }
    expect(existsSync(where.statePath)).toBe(false);
  });

  it('runs from make, on this workshop: a hint, and a usage error with a non-zero exit', () => {
    const state = join(tempDir(), 'shown.json');
    const env = { ...process.env, HINT_STATE: state };
    const good = spawnSync('make', ['--no-print-directory', '-o', 'node_modules/.installed', 'hint', 'STEP=05', 'EX=1'], { cwd: REPO, env, encoding: 'utf8' });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^Step 05, exercise 1: REWRITEAOF, compacting the file\nHint 1 of \d+\n/);
    expect(existsSync(state), 'HINT_STATE is where it remembers').toBe(true);
    const bad = spawnSync('make', ['--no-print-directory', '-o', 'node_modules/.installed', 'hint', 'STEP=05', 'EX=42'], { cwd: REPO, env, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.split('\n')[0]).toMatch(/^hint: step 05 has no exercise 42 \(it has 1, 2, 3, 4, 5\); usage: make hint/);
  });
});

describe('the hints format', () => {
  it('reads "## Hint N" sections in order, and refuses a gap or an empty one', () => {
    expect(parseHints('# Title\n\nintro\n\n## Hint 1\n\nA.\n\n## Hint 2\n\nB\nand more.\n')).toEqual(['A.', 'B\nand more.']);
    expect(parseHints('no hints')).toEqual([]);
    expect(() => parseHints('## Hint 2\n\nB.\n')).toThrow('"## Hint 2" where "## Hint 1" was expected');
    expect(() => parseHints('## Hint 1\n\n## Hint 2\n\nB.\n')).toThrow('Hint 1 is empty');
  });

  it("finds what each exercise's section of an EXERCISES.md says about its hints", () => {
    const md =
      'Intro: `make hint STEP=05 EX=1` gives hints.\n\n' +
      '## Exercise 1: a\n\nStuck? `make hint STEP=05 EX=1` gives the first of its 4 hints; run it again.\n\n' +
      '## Exercise 2: b\n\nNothing.\n\n' +
      '## Exercise 3: c\n\nStuck? `make hint STEP=05 EX=3` gives\nthe first of its 1 hint.\n';
    expect(statedHints(md)).toEqual(
      new Map([
        [1, { step: '05', ex: 1, count: 4 }],
        [3, { step: '05', ex: 3, count: 1 }],
      ]),
    );
  });
});
