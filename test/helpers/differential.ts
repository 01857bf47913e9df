// Differential tests: the same bytes go to the step's server and to a real redis-server,
// and the replies must be identical, byte for byte, errors included.
import { afterAll, beforeAll, beforeEach, it } from 'vitest';
import { ReplyMismatchError } from './bytes.ts';
import { RawClient, command } from './raw-client.ts';
import { describeWithRedis, startRealRedis, type RealRedis } from './real-redis.ts';
import { startStep, type StepName, type StepOptions, type TestServer } from './servers.ts';

export interface DiffCase {
  name: string;
  /** Raw bytes, or commands (each an argument list) sent as arrays of bulk strings. */
  send: string | string[][];
  /** How many replies to compare; by default one per command. */
  replies?: number;
  /** The server is expected to reply and then close the connection (protocol errors). */
  closes?: boolean;
  /** Rewrites replies before comparing, for fields that may differ (a client id). */
  normalize?: (reply: string) => string;
}

function bytesOf(send: DiffCase['send']): string {
  return typeof send === 'string' ? send : send.map((args) => command(...args)).join('');
}

/** What one server answered to a case: its bytes, and why it fell short (a timeout) if it did. */
interface Answer {
  bytes: string;
  problem?: string;
}

async function answerFrom(port: number, c: DiffCase): Promise<Answer> {
  const client = await RawClient.connect(port);
  try {
    client.send(bytesOf(c.send));
    if (c.closes) return { bytes: (await client.readUntilClose()).toString('latin1') + '<closed>' };
    const count = c.replies ?? (typeof c.send === 'string' ? 1 : c.send.length);
    return { bytes: (await client.readReplies(count)).bytes.toString('latin1') };
  } catch (err) {
    // Show what did arrive, so the report can put it beside what Redis sent.
    return { bytes: client.takeAll().toString('latin1'), problem: (err as Error).message };
  } finally {
    client.destroy();
  }
}

/**
 * Registers the hooks of a suite that runs `step`'s server beside a real redis-server:
 * both started once, both emptied before each test. Read `.ours` and `.redis` in tests.
 */
export function useStepAndRedis<S extends StepName>(step: S, serverOptions?: StepOptions<S>): { readonly ours: TestServer; readonly redis: RealRedis } {
  let ours: TestServer;
  let redis: RealRedis;
  beforeAll(async () => {
    [ours, redis] = await Promise.all([startStep(step, serverOptions), startRealRedis()]);
  });
  afterAll(async () => {
    await Promise.all([ours?.close(), redis?.stop()]);
  });
  beforeEach(async () => {
    for (const port of [ours.port, redis.port]) {
      const client = await RawClient.connect(port);
      try {
        // Any reply will do: a step without keys (02) answers FLUSHALL with an error.
        await client.request(command('FLUSHALL'));
      } finally {
        client.destroy();
      }
    }
  });
  return {
    get ours() {
      return ours;
    },
    get redis() {
      return redis;
    },
  };
}

/**
 * Declares a suite that compares `step` with real Redis on every case. Both start empty,
 * and are flushed before each case.
 */
export function describeDifferential<S extends StepName>(step: S, cases: DiffCase[], serverOptions?: StepOptions<S>): void {
  describeWithRedis(['redis-server'], `${step} replies exactly as Redis 7 does`, () => {
    const servers = useStepAndRedis(step, serverOptions);
    for (const c of cases) {
      it(c.name, async () => {
        const normalize = c.normalize ?? ((s: string) => s);
        const [expected, received] = await Promise.all([answerFrom(servers.redis.port, c), answerFrom(servers.ours.port, c)]);
        if (expected.problem !== undefined) throw new Error(`real Redis did not answer this case as declared: ${expected.problem}`);
        if (received.problem !== undefined || normalize(expected.bytes) !== normalize(received.bytes)) {
          const why = received.problem === undefined ? 'real Redis replied differently' : `real Redis replied, but from this server: ${received.problem}`;
          throw new ReplyMismatchError(bytesOf(c.send), normalize(expected.bytes), normalize(received.bytes), why);
        }
      });
    }
  });
}
