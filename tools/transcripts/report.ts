// What a failed replay prints: the doc's file and line, what was typed, the expected and
// the received line escaped with a caret under the first difference (the step checks'
// layout, test/helpers/bytes.ts), then what else that terminal printed.
import { escapeText, textComparisonLines } from '../../test/helpers/bytes.ts';
import { agreement, asShown, type Mismatch } from './match.ts';
import type { Input, Step } from './parse.ts';

export interface Failure {
  doc: string;
  /** The doc line the failure is about: the expected line, or what was typed. */
  line: number;
  step: Step;
  /** Against real Redis (an also-redis session) rather than the step's server. */
  target: 'step' | 'redis';
  mismatch?: Mismatch;
  /** A failure that is not about output: a hang, a server that did not start, a misuse. */
  message?: string;
  /** What the terminal printed after the point of failure (as far as it arrived). */
  rest: string[];
}

/** What was typed, as the doc shows it. */
export function describeInput(input: Input, terminal: number): string {
  switch (input.kind) {
    case 'shell':
      return `$ ${input.command}`;
    case 'cli':
      return `${input.prompt}> ${input.text}`;
    case 'nc':
      return `> ${input.text}`;
    case 'key':
      return input.key;
    case 'look':
      return `(output shown after "# terminal ${terminal}")`;
    case 'file':
      return `(the file ${input.name})`;
  }
}

const MAX_REST = 20;

/** A line as compared: as a terminal shows it, carriage returns applied (a trailing one shows nothing). */
const shown = asShown;

function mismatchLines(m: Mismatch, waitMs: number): string[] {
  switch (m.kind) {
    case 'differs': {
      return textComparisonLines(m.expected.text, shown(m.received), agreement(m.expected.text, m.received).at);
    }
    case 'missing':
      return [`  expected:  ${escapeText(m.expected.text)}`, `  received:  nothing (the output ended, or nothing more came within ${waitMs / 1000} s)`];
    case 'extra':
      return ['  expected:  nothing more (the doc shows no more lines here)', `  received:  ${escapeText(shown(m.received))}`];
    case 'any-order':
      return [
        '  expected (in any order):',
        ...m.expected.map((e) => `    ${escapeText(e.text)}`),
        '  received:',
        ...m.received.map((r) => `    ${escapeText(shown(r))}${m.unmatched.includes(r) ? '   <- not expected' : ''}`),
      ];
  }
}

export function formatFailure(f: Failure, waitMs: number): string {
  const typed = describeInput(f.step.input, f.step.terminal);
  const where = f.line === f.step.line ? '' : `, after line ${f.step.line}`;
  const against = f.target === 'redis' ? ' [against real Redis: also-redis]' : '';
  const lines = [`${f.doc}:${f.line}: in terminal ${f.step.terminal}${where}${against}`, `  typed:     ${typed}`];
  if (f.message !== undefined) lines.push(`  ${f.message}`);
  if (f.mismatch !== undefined) lines.push(...mismatchLines(f.mismatch, waitMs));
  if (f.rest.length > 0) {
    lines.push(`  what terminal ${f.step.terminal} printed after that:`);
    for (const r of f.rest.slice(0, MAX_REST)) lines.push(`    | ${shown(r)}`);
    if (f.rest.length > MAX_REST) lines.push(`    … and ${f.rest.length - MAX_REST} more lines`);
  }
  return lines.join('\n');
}

/** The doc line a mismatch is about. */
export function mismatchLine(m: Mismatch, step: Step): number {
  if (m.kind === 'differs' || m.kind === 'missing') return m.expected.line;
  if (m.kind === 'any-order') return m.expected[0]?.line ?? step.line;
  return step.expected.at(-1)?.line ?? step.line;
}
