// `make diff STEP=NN` on a small repo of its own: the step's diff, then the lib/ modules the
// step starts to import (type-only imports too), and not those the step before imported.
// On this repo: step 03's diff shows lib/networking.ts, where the connection loop moved.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { asNewFile, diffStep } from './diff-step.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'diff-step-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const FILES = {
  'lib/log.ts': 'export const log = 1;\n',
  'lib/loop.ts': "import { log } from './log.ts';\nexport const loop = log;\n",
  'lib/types.ts': 'export type Reply = string;\n',
  'lib/unused.ts': 'export const unused = 1;\n',
  '01-echo/server.ts': "import { log } from '../lib/log.ts';\nexport const a = log;\n",
  '02-resp/server.ts': "import { log } from '../lib/log.ts';\nimport { loop } from '../lib/loop.ts';\nexport const a = log + loop;\n",
  '02-resp/reply.ts': "import type { Reply } from '../lib/types.ts';\nexport const r: Reply = 'x';\n",
  '02-resp/server.test.ts': "import { unused } from '../lib/unused.ts';\n",
  '02-resp/README.md': 'docs are not code\n',
};

describe('diff-step', () => {
  it("shows the step's diff, then each lib/ module it starts to import, in full", () => {
    const { text, exitCode } = diffStep(repo(FILES), '02');
    expect(exitCode).toBe(0);
    expect(text).toMatch(/^diff -ru 01-echo 02-resp \(code only/);
    expect(text).toContain('+++ 02-resp/reply.ts');
    expect(text).toContain("+import { loop } from '../lib/loop.ts';");
    expect(text).not.toContain('README');
    expect(text).toContain(`lib/loop.ts: first imported in 02-resp (by 02-resp/server.ts), in full:\n${asNewFile('lib/loop.ts', FILES['lib/loop.ts'])}`);
    expect(text).toContain(`lib/types.ts: first imported in 02-resp (by 02-resp/reply.ts), in full:\n${asNewFile('lib/types.ts', FILES['lib/types.ts'])}`);
    expect(text).not.toContain('+++ lib/log.ts'); // step 01 imported it already
    expect(text).not.toContain('lib/unused.ts'); // only a test imports it
    expect(text.indexOf('+++ lib/loop.ts')).toBeGreaterThan(text.indexOf('+++ 02-resp/server.ts'));
  });

  it('writes a new file as diff -N does', () => {
    expect(asNewFile('lib/x.ts', 'a\nb\n')).toBe('diff -u /dev/null lib/x.ts\n--- /dev/null\n+++ lib/x.ts\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  it('names the first step, and refuses a step that does not exist', () => {
    const root = repo(FILES);
    expect(diffStep(root, '01')).toEqual({ text: '01-echo is the first step: read 01-echo/server.ts\n', exitCode: 0 });
    expect(diffStep(root, '7')).toEqual({ text: 'no step 7: 01, 02\n', exitCode: 2 });
    expect(diffStep(root, '../x')).toMatchObject({ exitCode: 2 });
  });

  it('shows lib/networking.ts in step 03, where the connection loop moved', () => {
    const { text } = diffStep(REPO, '03');
    expect(text).toContain('lib/networking.ts: first imported in 03-get-set (by 03-get-set/server.ts), in full:\n');
    expect(text).toContain('+++ lib/networking.ts\n');
    expect(text).not.toContain('+++ lib/cli.ts'); // step 02 used it already
  });
});
