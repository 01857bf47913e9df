// Running Redis's command-line tools against a server living in this process: always
// asynchronously (a synchronous spawn would block the very server the tool talks to).
import { spawn } from 'node:child_process';
import { onPath } from './redis-programs.ts';

/** `script` (util-linux) gives redis-cli the terminal its interactive mode needs. */
export const HAS_SCRIPT = onPath('script');

export interface ProgramRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion without blocking this process (the server lives here). */
export function runProgram(program: string, args: string[], input?: string): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input === undefined ? undefined : Buffer.from(input, 'latin1'));
  });
}

/**
 * Types `lines` into an interactive redis-cli (under `script`, which gives it the terminal
 * it wants), waiting for the prompt after each, then QUIT. Returns the screen, with the
 * port in the prompt replaced by PORT. `options` go before -p (`-3`).
 */
export function interactiveRedisCli(port: number, lines: string[], options = ''): Promise<string> {
  const child = spawn('script', ['-qfec', `redis-cli ${options} -p ${port}`.replace(/ +/g, ' '), '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TERM: 'dumb' },
  });
  let screen = '';
  let onOutput = () => {};
  child.stdout.on('data', (d) => {
    screen += d;
    onOutput();
  });
  // A prompt starts a line (a map's `=>` in a reply is no prompt).
  const prompts = () => (screen.match(/^(?:[\w.-]+:\d+(?:\[\d+\])?(?:\(TX\))?|not connected)> /gm) ?? []).length;
  const promptNumber = (n: number) =>
    new Promise<void>((resolve) => {
      onOutput = () => prompts() >= n && resolve();
      onOutput();
    });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return (async () => {
    try {
      for (let i = 0; i < lines.length; i++) {
        await promptNumber(i + 1);
        child.stdin.write(`${lines[i]}\r`);
      }
      await promptNumber(lines.length + 1);
      child.stdin.write('quit\r');
      await closed;
      return screen.replaceAll(String(port), 'PORT');
    } finally {
      child.kill();
    }
  })();
}
