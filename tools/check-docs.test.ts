// Each rule of the doc check catches its violation in a tiny fixture repo, and a clean
// fixture passes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkDocs,
  checkExcerpts,
  checkLinks,
  checkMakeTargets,
  checkRequiredDocuments,
  formatProblem,
  headingSlugs,
  makeTargetsIn,
  markdownFiles,
} from './check-docs.ts';

const SERVER = `import net from 'node:net';

export function start() {
  const server = net.createServer((socket) => {
    socket.on('data', (chunk) => socket.write(chunk));
  });
  return server;
}
`;

const MAKEFILE = `STEPS := $(patsubst %/,%,$(sort $(dir $(wildcard [0-9][0-9]-*/server.ts))))
.PHONY: test $(STEPS)

$(STEPS):
\tnode $@/server.ts

test: ## Run the tests
\tvitest run
`;

/** A repo that passes every rule. */
const CLEAN: Record<string, string> = {
  'Makefile': MAKEFILE,
  'README.md': '# Workshop\n\nStart with [step 01](01-echo/README.md#step-01-echo), then `make 01-echo`.\n',
  'lib/README.md': '# lib\n\nSee [the top README](../README.md).\n',
  '01-echo/server.ts': SERVER,
  '01-echo/README.md': '# Step 01: echo\n\nRun it:\n\n```sh\nmake 01-echo\nREQUIRE_REDIS=1 make test\n```\n\nRead the [guide](GUIDE.md#the-handler).\n',
  '01-echo/GUIDE.md': [
    '# Guide',
    '',
    '## The handler',
    '',
    '```ts server.ts',
    "  const server = net.createServer((socket) => {",
    '// ...',
    '  return server;',
    '```',
    '',
    'Free-form code is not checked:',
    '',
    '```ts',
    'anything();',
    '```',
    '',
    '![diagram](img/flow.png)',
    '',
  ].join('\n'),
  '01-echo/img/flow.png': 'png',
  '01-echo/EXERCISES.md': '# Exercises\n\nCheck with `make test`. Make sure it passes.\n',
};

let roots: string[] = [];

function fixture(overrides: Record<string, string | null> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'check-docs-'));
  roots.push(root);
  const files = { ...CLEAN, ...overrides };
  for (const [path, text] of Object.entries(files)) {
    if (text === null) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

const lines = (root: string) => checkDocs(root).map(formatProblem);

describe('check-docs', () => {
  it('passes a clean repo', () => {
    const root = fixture();
    expect(markdownFiles(root)).toEqual(['01-echo/EXERCISES.md', '01-echo/GUIDE.md', '01-echo/README.md', 'README.md', 'lib/README.md']);
    expect(lines(root)).toEqual([]);
  });

  describe('the four documents', () => {
    it('reports a missing document', () => {
      const root = fixture({ '01-echo/EXERCISES.md': null });
      expect(checkRequiredDocuments(root).map(formatProblem)).toEqual([
        '01-echo/EXERCISES.md:1: missing (every step has README.md, GUIDE.md, EXERCISES.md and server.ts)',
      ]);
    });

    it('reports an empty document and a missing lib/README.md', () => {
      const root = fixture({ '01-echo/GUIDE.md': ' \n\n', 'lib/README.md': null });
      expect(checkRequiredDocuments(root).map(formatProblem)).toEqual(['lib/README.md:1: missing', '01-echo/GUIDE.md:1: is empty']);
    });

    it('does not ask the capstone for a server.ts', () => {
      const root = fixture({
        '10-capstone/README.md': '# Capstone\n',
        '10-capstone/GUIDE.md': '# Guide\n',
        '10-capstone/EXERCISES.md': '# Exercises\n',
      });
      expect(checkRequiredDocuments(root)).toEqual([]);
    });
  });

  describe('links', () => {
    it('reports a link to a missing file, with its line', () => {
      const root = fixture({ 'README.md': '# Workshop\n\nSee [the guide](01-echo/GIUDE.md).\n' });
      expect(checkLinks(root, markdownFiles(root)).map(formatProblem)).toEqual([
        'README.md:3: link to 01-echo/GIUDE.md: 01-echo/GIUDE.md does not exist',
      ]);
    });

    it('reports a missing image, and a missing reference-style target', () => {
      const root = fixture({ 'lib/README.md': '# lib\n\n![flow](flow.svg)\n\n[ref]: ../nowhere.md\n' });
      expect(checkLinks(root, ['lib/README.md']).map(formatProblem)).toEqual([
        'lib/README.md:3: link to flow.svg: lib/flow.svg does not exist',
        'lib/README.md:5: link to ../nowhere.md: nowhere.md does not exist',
      ]);
    });

    it('reports an anchor that names no heading, here and in another file', () => {
      const root = fixture({ 'lib/README.md': '# lib\n\n## Two words\n\n[a](#two-words) [b](#three) [c](../01-echo/GUIDE.md#nope)\n' });
      expect(checkLinks(root, ['lib/README.md']).map(formatProblem)).toEqual([
        'lib/README.md:5: link to #three: no heading with anchor #three in lib/README.md',
        'lib/README.md:5: link to ../01-echo/GUIDE.md#nope: no heading with anchor #nope in 01-echo/GUIDE.md',
      ]);
    });

    it('ignores external links and links inside code', () => {
      const root = fixture({
        'lib/README.md': '# lib\n\n[Redis](https://redis.io/docs/latest/) `[x](missing.md)`\n\n```md\n[y](missing.md)\n```\n',
      });
      expect(checkLinks(root, ['lib/README.md'])).toEqual([]);
    });

    it('makes heading anchors as GitHub does', () => {
      expect([...headingSlugs('# Step 01: TCP echo\n## `make check`, then?\n## Hints\n## Hints\n')]).toEqual([
        'step-01-tcp-echo',
        'make-check-then',
        'hints',
        'hints-1',
      ]);
    });
  });

  describe('excerpts', () => {
    it('reports the first excerpt line that is not in the source', () => {
      const guide = ['# Guide', '', '```ts server.ts', "  const server = net.createServer((socket) => {", "    socket.on('data', (chunk) => socket.end(chunk));", '```', ''];
      const root = fixture({ '01-echo/GUIDE.md': guide.join('\n') });
      expect(checkExcerpts(root, ['01-echo/GUIDE.md']).map(formatProblem)).toEqual([
        `01-echo/GUIDE.md:5: excerpt of server.ts does not match: line not in source: "socket.on('data', (chunk) => socket.end(chunk));"`,
      ]);
    });

    it('reports fragments out of file order', () => {
      const guide = ['# Guide', '', '```ts server.ts', '  return server;', '// ...', "import net from 'node:net';", '```', ''];
      const root = fixture({ '01-echo/GUIDE.md': guide.join('\n') });
      expect(checkExcerpts(root, ['01-echo/GUIDE.md']).map(formatProblem)).toEqual([
        '01-echo/GUIDE.md:6: excerpt of server.ts does not match: fragment appears at source line 1, before the previous fragment (fragments must be in file order)',
      ]);
    });

    it('reports an excerpt of a file that does not exist, relative to the doc', () => {
      const root = fixture({ '01-echo/README.md': '# Step\n\n```ts ../lib/resp.ts\nexport {};\n```\n' });
      expect(checkExcerpts(root, ['01-echo/README.md']).map(formatProblem)).toEqual([
        '01-echo/README.md:3: excerpt names ../lib/resp.ts, which does not exist (lib/resp.ts)',
      ]);
    });

    it('takes a file the doc then runs for one the reader saves, and a transcript tag for no file', () => {
      const saved = '# Step\n\n```ts try.ts\nconsole.log(1);\n```\n\n```text continued\n$ npx tsx try.ts\n1\n```\n';
      expect(checkExcerpts(fixture({ '01-echo/README.md': saved }), ['01-echo/README.md'])).toEqual([]);
      const neverRun = '# Step\n\n```ts try.ts\nconsole.log(1);\n```\n';
      expect(checkExcerpts(fixture({ '01-echo/README.md': neverRun }), ['01-echo/README.md']).map(formatProblem)).toEqual([
        '01-echo/README.md:3: excerpt names try.ts, which does not exist (01-echo/try.ts)',
      ]);
    });

    it('checks only GUIDE and README excerpts', () => {
      const root = fixture({ '01-echo/EXERCISES.md': '# Exercises\n\n```ts server.ts\nsolution();\n```\n' });
      expect(checkExcerpts(root, markdownFiles(root))).toEqual([]);
    });
  });

  describe('make targets', () => {
    it('reports a target the Makefile does not have, in a fence and in inline code', () => {
      const root = fixture({ '01-echo/EXERCISES.md': '# Exercises\n\nRun `make chek STEP=01 EX=1`.\n\n```sh\n$ make 02-parser && make test\n```\n' });
      expect(checkMakeTargets(root, ['01-echo/EXERCISES.md']).map(formatProblem)).toEqual([
        '01-echo/EXERCISES.md:3: `make chek`: the Makefile has no target chek',
        '01-echo/EXERCISES.md:6: `make 02-parser`: the Makefile has no target 02-parser',
      ]);
    });

    it('knows step targets come from $(STEPS): a step folder with a server.ts', () => {
      const root = fixture({ '02-parser/README.md': '# 02\n\n`make 02-parser`\n', 'README.md': '# W\n\n`make 02-parser`\n' });
      expect(checkMakeTargets(root, ['README.md'])).toHaveLength(1);
      writeFileSync(join(root, '02-parser/server.ts'), SERVER);
      expect(checkMakeTargets(root, ['README.md'])).toEqual([]);
    });

    it('reads commands, not prose or placeholders', () => {
      expect(makeTargetsIn('TARGET=redis make check STEP=03 EX=1')).toEqual(['check']);
      expect(makeTargetsIn('git clone x && cd x && make 01-tcp-echo   # then nc')).toEqual(['01-tcp-echo']);
      expect(makeTargetsIn('make 01-tcp-echo ARGS="--port 6381 --loglevel debug"')).toEqual(['01-tcp-echo']);
      expect(makeTargetsIn('make NN-step')).toEqual([]);
      expect(makeTargetsIn('make <step>')).toEqual([]);
      expect(makeTargetsIn('make: *** No rule to make target')).toEqual([]);
    });
  });

  it('prints path:line: problem for every rule at once', () => {
    const root = fixture({
      '01-echo/EXERCISES.md': '',
      'README.md': '# W\n\n[gone](gone.md)\n\n`make deploy`\n\n```ts 01-echo/server.ts\nnot in the file\n```\n',
    });
    expect(lines(root)).toEqual([
      '01-echo/EXERCISES.md:1: is empty',
      'README.md:3: link to gone.md: gone.md does not exist',
      'README.md:5: `make deploy`: the Makefile has no target deploy',
      'README.md:8: excerpt of 01-echo/server.ts does not match: line not in source: "not in the file"',
    ]);
  });
});
