// `make diff STEP=03`: what a step adds to the one before it. First the step's own code,
// as `diff -ru` shows it (new files in full, removed ones named; docs, tests and exercises
// left out); then, in full as new files, the lib/ modules the step imports and the step
// before it did not, read from both steps' import statements (imports.ts). When the
// connection loop moved to lib/networking.ts in step 03, that file is the lesson too.
//
// Usage: npx tsx tools/diff-step.ts 03
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain } from '../lib/cli.ts';
import { stepFolders } from './check-docs.ts';
import { libImportsOf } from './imports.ts';

/** What `make diff` prints, and its exit code (2: no such step). */
export function diffStep(root: string, step: string): { text: string; exitCode: number } {
  const steps = stepFolders(root);
  const current = steps.find((s) => s.startsWith(`${step.padStart(2, '0')}-`));
  if (!/^\d{1,2}$/.test(step) || current === undefined) return { text: `no step ${step}: ${steps.map((s) => s.slice(0, 2)).join(', ')}\n`, exitCode: 2 };
  const previous = steps.find((s) => parseInt(s, 10) === parseInt(current, 10) - 1);
  if (previous === undefined) return { text: `${current} is the first step: read ${current}/server.ts\n`, exitCode: 0 };

  const excluded = ['*.md', '*.test.ts', 'exercises', 'data'].flatMap((pattern) => ['-x', pattern]);
  const diff = spawnSync('diff', ['-ru', '--unidirectional-new-file', ...excluded, previous, current], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (diff.error || (diff.status !== 0 && diff.status !== 1)) throw new Error(`diff failed: ${diff.error?.message ?? diff.stderr}`);
  let text = `diff -ru ${previous} ${current} (code only: new files in full, removed ones named)\n${diff.stdout}`;

  const before = libImportsOf(root, previous);
  const added = [...libImportsOf(root, current)].filter(([module]) => !before.has(module));
  for (const [module, importer] of added) {
    text += `\n${module}: first imported in ${current} (by ${importer}), in full:\n` + asNewFile(module, readFileSync(join(root, module), 'utf8'));
  }
  return { text, exitCode: 0 };
}

/** A whole file as a unified diff from nothing, as `diff -N` prints a new file. */
export function asNewFile(path: string, text: string): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return `diff -u /dev/null ${path}\n--- /dev/null\n+++ ${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join('')}`;
}

if (isMain(import.meta.url)) {
  const step = process.argv[2];
  if (step === undefined || step === '') {
    console.error('usage: make diff STEP=03');
    process.exitCode = 2;
  } else {
    const { text, exitCode } = diffStep(resolve(join(fileURLToPath(import.meta.url), '../..')), step);
    process.stdout.write(text);
    process.exitCode = exitCode;
  }
}
