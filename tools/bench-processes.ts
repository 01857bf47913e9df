// What the benchmarks share: finding a step's folder, and starting a server as its own
// process (ours or redis-server) and waiting until it accepts connections.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { waitForPort } from '../test/helpers/ports.ts';

/** "03" or "3" -> "03-get-set". */
export function stepFolder(step: string): string {
  const match = readdirSync('.').find((d) => d.startsWith(step.padStart(2, '0') + '-'));
  if (match === undefined) throw new Error(`no step ${step}`);
  return match;
}

/** Starts a server process; resolves once it listens on `port`, with a function that kills it. */
export async function startProcess(program: string, args: string[], port: number): Promise<() => void> {
  const child = spawn(program, args, { stdio: 'ignore' });
  await waitForPort(port, 30_000);
  return () => child.kill('SIGKILL');
}
