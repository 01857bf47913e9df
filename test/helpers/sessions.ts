// Differential tests with several clients: a script of steps, each sent by one of a few
// connections and answered before the next step goes, runs against the step's server and
// against real Redis; the transcripts (who sent what, what came back) must be identical.
// This is how a race between two clients (WATCH, then another client's write) is compared.
import { it } from 'vitest';
import { ReplyMismatchError } from './bytes.ts';
import { RawClient, command } from './raw-client.ts';
import { useStepAndRedis } from './differential.ts';
import { describeWithRedis } from './real-redis.ts';
import type { StepName, StepOptions } from './servers.ts';

/**
 * One step: which client (0, 1, ...) sends the command, and how many replies it awaits. A
 * step that sends nothing only waits: for messages pushed to a subscriber, say.
 */
export interface SessionStep {
  client: number;
  send: string[];
  /** Replies to wait for: 1 by default; 0 for a command that gets none. */
  replies?: number;
}

export interface SessionCase {
  name: string;
  steps: SessionStep[];
  /** Rewrites the transcript before comparing, for fields that may differ (a client id). */
  normalize?: (transcript: string) => string;
}

/** Shorthand for a step: `on(1, 'SET', 'k', 'v')`. */
export const on = (client: number, ...send: string[]): SessionStep => ({ client, send });

/** Shorthand for a step that sends nothing and waits for `count` replies (pushed messages). */
export const receives = (client: number, count = 1): SessionStep => ({ client, send: [], replies: count });

/** Runs a script against the server on `port`; returns the transcript, one line per step. */
async function transcript(port: number, steps: SessionStep[]): Promise<string> {
  const clients: RawClient[] = [];
  try {
    let out = '';
    for (const step of steps) {
      while (clients.length <= step.client) clients.push(await RawClient.connect(port));
      const client = clients[step.client]!;
      const bytes = step.send.length === 0 ? '' : command(...step.send);
      if (bytes !== '') client.send(bytes);
      const count = step.replies ?? 1;
      const reply = count === 0 ? '' : (await client.readReplies(count)).bytes.toString('latin1');
      out += `${step.client}> ${bytes}${reply}`;
    }
    return out;
  } finally {
    for (const c of clients) c.destroy();
  }
}

/** Declares a suite comparing `step` with real Redis on each multi-client script. */
export function describeSessions<S extends StepName>(step: S, cases: SessionCase[], serverOptions?: StepOptions<S>): void {
  describeWithRedis(['redis-server'], `${step} answers several clients exactly as Redis 7 does`, () => {
    const servers = useStepAndRedis(step, serverOptions);
    for (const c of cases) {
      it(c.name, async () => {
        const normalize = c.normalize ?? ((s: string) => s);
        const expected = normalize(await transcript(servers.redis.port, c.steps));
        const received = normalize(await transcript(servers.ours.port, c.steps));
        if (expected !== received) {
          const sent = c.steps.map((s) => `${s.client}> ${s.send.length === 0 ? '(waits)' : command(...s.send)}`).join('');
          throw new ReplyMismatchError(sent, expected, received, 'real Redis answered this script differently (each step shows the client that sent it)');
        }
      });
    }
  });
}
