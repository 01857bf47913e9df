// The drift check on small repos of its own: a fix made in one step's copy only fails it,
// the same change marked as the step's lesson passes, and so does a change to a file's
// opening description. The import-cycle rule finds the loop that broke steps 03-07 at load
// ("Cannot access 'REDIS_VERSION' before initialization"), on a copy of step 07 put back
// the way it was, and Node fails to load that copy for the reason the check gives.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { carriesMarker, checkDrift, checkImportCycles, DRIFT_HINT, openingDescriptionLength } from './check-drift.ts';
import { formatProblem } from './check-docs.ts';
import { findCycles, importsOf } from './imports.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-drift-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A step-like file: an opening description, then code. */
const KEYS = `// 01: the key commands.
// Each family registers its commands.
import { other } from './command.ts';

function del(c, args) {
  c.log.debug('DEL');
  let n = 0;
  for (const key of args.slice(1)) if (c.db.delete(key)) n++;
  return n;
}

function exists(c, args) {
  return args.slice(1).filter((k) => c.db.has(k)).length;
}
`;

const withLine = (text: string, from: string, to: string) => {
  expect(text).toContain(from);
  return text.replace(from, to);
};

/** Three neighbouring steps; `keys` maps each step to its copy of keys.ts. */
const steps = (keys: [string, string, string], extra: Record<string, string> = {}) =>
  repo({ '01-first/keys.ts': keys[0], '02-second/keys.ts': keys[1], '03-third/keys.ts': keys[2], ...extra });

const problems = (root: string) => checkDrift(root).problems.map((p) => `${p.path}:${p.line}: ${p.problem}`);

describe('check-drift: markers', () => {
  it('accepts exactly the forms the steps use', () => {
    for (const line of ['  // 06: why', 'this.x(); // 06', 'this.x(); // 06  ', '/** 06: why */', '  /** 06: why', '   * 06: why', 'a(); // 06: why']) {
      expect(carriesMarker(line, '06'), line).toBe(true);
    }
    for (const line of ['// 6: why', '//06: why', '// 06 why', 'x = 06;', '06: in prose', '// 05: why', '// 066', 'a(); // 06, 07']) {
      expect(carriesMarker(line, '06'), line).toBe(false);
    }
  });

  it('takes the leading comment block as the opening description', () => {
    expect(openingDescriptionLength(KEYS.split('\n'))).toBe(2);
    expect(openingDescriptionLength(['#!/usr/bin/env node', '// a', 'code'])).toBe(2);
    expect(openingDescriptionLength(['/* a', ' * b */', 'code'])).toBe(2);
    expect(openingDescriptionLength(['import x;'])).toBe(0);
  });
});

describe('check-drift: neighbouring copies', () => {
  it('passes identical copies, and counts the pairs and files compared', () => {
    const report = checkDrift(steps([KEYS, KEYS, KEYS]));
    expect(report).toEqual({ pairs: 2, files: 2, problems: [] });
  });

  it('fails a fix made in one copy only, in both pairs that differ', () => {
    const fixed = withLine(KEYS, 'return args.slice(1).filter', 'return args.slice(1).filter((k) => k !== "") && args.slice(1).filter');
    expect(problems(steps([KEYS, fixed, KEYS]))).toEqual([
      `02-second/keys.ts:13: this change from 01's copy carries no // 02: marker: ${DRIFT_HINT}`,
      `03-third/keys.ts:13: this change from 02's copy carries no // 03: marker: ${DRIFT_HINT}`,
    ]);
  });

  it("passes the same fix made in every step's copy", () => {
    const fixed = withLine(KEYS, 'let n = 0;', 'let n = 0; // deleted so far');
    expect(problems(steps([fixed, fixed, fixed]))).toEqual([]);
  });

  it("passes a change marked as the step's lesson, in each form, and fails another step's marker", () => {
    const lesson = withLine(KEYS, '  return n;\n', '  c.server.propagate(args); // 02\n  return n;\n');
    const explained = withLine(KEYS, '  return n;\n', '  // 02: what changed is propagated.\n  c.server.propagate(args);\n  return n;\n');
    const documented = withLine(KEYS, 'function exists', '/** 02: one of the commands WATCH cares about. */\nfunction exists');
    for (const copy of [lesson, explained, documented]) expect(problems(steps([KEYS, copy, copy]))).toEqual([]);
    const wrongStep = withLine(KEYS, '  return n;\n', '  c.server.propagate(args); // 03\n  return n;\n');
    expect(problems(steps([KEYS, wrongStep, wrongStep]))).toHaveLength(1);
  });

  it('passes a change inside the opening description, but not one that runs on into the code', () => {
    const described = withLine(KEYS, '// Each family registers its commands.', '// Each family registers its commands.\n// 02: DEL now counts expired keys apart.');
    expect(problems(steps([KEYS, described, described]))).toEqual([]);
    const runsOn = withLine(KEYS, "// Each family registers its commands.\nimport { other } from './command.ts';", "// Each family registers what it has.\nimport { other, read } from './command.ts';");
    expect(problems(steps([KEYS, runsOn, runsOn]))).toEqual([`02-second/keys.ts:3: this change from 01's copy carries no // 02: marker: ${DRIFT_HINT}`]);
  });

  it('fails a deletion, unless a line beside it says why', () => {
    const deleted = withLine(KEYS, "  c.log.debug('DEL');\n", '');
    expect(problems(steps([KEYS, deleted, deleted]))).toEqual([`02-second/keys.ts:6: this change from 01's copy carries no // 02: marker: ${DRIFT_HINT}`]);
    const explained = withLine(KEYS, "  c.log.debug('DEL');\n  let n = 0;\n", '  let n = 0; // 02: no debug line: MONITOR shows every command\n');
    expect(problems(steps([KEYS, explained, explained]))).toEqual([]);
  });

  it('needs no marker in a file new in a step, in tests or in exercises', () => {
    const root = steps([KEYS, KEYS, KEYS], {
      '02-second/expire.ts': 'export const x = 1;\n',
      '02-second/keys.test.ts': 'changed\n',
      '01-first/keys.test.ts': 'original\n',
      '02-second/exercises/1-x.check.ts': 'changed\n',
      '01-first/exercises/1-x.check.ts': 'original\n',
    });
    expect(checkDrift(root)).toEqual({ pairs: 2, files: 2, problems: [] });
  });

  it('takes a declared rewrite as new, unless it keeps most of the older copy', () => {
    const rewrite = `// 02: rewritten: keys are a class now.\nexport class Keys {\n  del() {}\n  exists() {}\n}\n`;
    expect(problems(steps([KEYS, rewrite, rewrite]))).toEqual([]);
    const notReally = `// 02: rewritten: not really.\n${KEYS}`;
    expect(problems(steps([KEYS, notReally, notReally]))).toEqual([
      `02-second/keys.ts:1: says "02: rewritten" but keeps 10 of its 11 lines from 01's copy: mark its changes instead`,
    ]);
  });

  it('pairs steps by number, so a gap in the numbers is no pair', () => {
    const root = repo({ '01-a/keys.ts': KEYS, '03-c/keys.ts': 'different\n' });
    expect(checkDrift(root)).toEqual({ pairs: 0, files: 0, problems: [] });
  });
});

describe('check-drift: runtime import cycles', () => {
  it('tells type-only imports from those that load a module', () => {
    const source = [
      "import type { A } from './a.ts';",
      "import { type B } from './b.ts';",
      "import { C, type D } from './c.ts';",
      "export type { E } from './e.ts';",
      "export { F } from './f.ts';",
      "import './g.ts';",
      '// import { H } from "./h.ts";',
      'const s = "import { I } from \'./i.ts\'";',
    ].join('\n');
    expect(importsOf(source)).toEqual([
      { specifier: './a.ts', typeOnly: true, line: 1 },
      // verbatimModuleSyntax keeps it as `import {} from './b.ts'`: b.ts still loads.
      { specifier: './b.ts', typeOnly: false, line: 2 },
      { specifier: './c.ts', typeOnly: false, line: 3 },
      { specifier: './e.ts', typeOnly: true, line: 4 },
      { specifier: './f.ts', typeOnly: false, line: 5 },
      { specifier: './g.ts', typeOnly: false, line: 6 },
    ]);
  });

  it('finds each group of files that import each other, with a shortest loop through it', () => {
    const edges = (...to: string[]) => to.map((file, i) => ({ to: file, line: i + 1 }));
    const graph = new Map([
      ['a.ts', edges('b.ts')],
      ['b.ts', edges('c.ts', 'd.ts', 'c.ts')],
      ['c.ts', edges('a.ts')],
      ['d.ts', edges()],
      ['e.ts', edges('e.ts')],
    ]);
    expect(findCycles(graph)).toEqual([
      { loop: ['a.ts', 'b.ts', 'c.ts', 'a.ts'], files: ['a.ts', 'b.ts', 'c.ts'] },
      { loop: ['e.ts', 'e.ts'], files: ['e.ts'] },
    ]);
  });

  it("catches REDIS_VERSION back in server.ts, which Node then fails to load", () => {
    const root = mkdtempSync(join(tmpdir(), 'check-drift-'));
    dirs.push(root);
    const step = join(root, '07-pubsub');
    cpSync(join(REPO, '07-pubsub'), step, { recursive: true, filter: (src) => !/\.test\.ts$|exercises$|data$/.test(basename(src)) });
    symlinkSync(join(REPO, 'lib'), join(root, 'lib'), 'dir');
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    const load = () =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "await import('./07-pubsub/server.ts')"], { cwd: root, encoding: 'utf8' });

    expect(checkImportCycles(root).problems).toEqual([]);
    const clean = load();
    expect(clean.status, clean.stderr).toBe(0);

    // The constant where it was before version.ts, and one top-level use of it in connection.ts.
    writeFileSync(join(step, 'server.ts'), `${readFileSync(join(step, 'server.ts'), 'utf8')}\nexport const REDIS_VERSION = '7.0.15';\n`);
    const connection = readFileSync(join(step, 'connection.ts'), 'utf8');
    writeFileSync(join(step, 'connection.ts'), withLine(connection, "import type { Client } from './server.ts';\nimport { REDIS_VERSION } from './version.ts';\n",
      "import { REDIS_VERSION, type Client } from './server.ts';\nconst GREETING = `redis ${REDIS_VERSION}`;\n"));

    const found = checkImportCycles(root).problems;
    expect(found).toHaveLength(1);
    const importOfConnection = readFileSync(join(step, 'commands.ts'), 'utf8').split('\n').indexOf("import { connection } from './connection.ts';") + 1;
    expect(formatProblem(found[0]!)).toBe(
      `07-pubsub/commands.ts:${importOfConnection}: runtime import cycle: commands.ts -> connection.ts -> server.ts -> commands.ts:` +
        ` a top-level use of an export from the loop can fail with "Cannot access 'X' before initialization";` +
        ' move what several files need into a module that imports none of them, or import types with `import type`',
    );
    const loaded = load();
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain("Cannot access 'REDIS_VERSION' before initialization");
  });
});
