// `make 10-capstone`: the capstone's server and real Redis, under 10-capstone/bench.ts's
// load, side by side. It starts what is not running and stops what it started:
//
//   ours    10-capstone/server.ts on PORT (6380), persisting nothing. Until the capstone's
//           server exists, the newest step that has a server stands in, and the run says so.
//   Redis   whatever answers PING on REDIS_PORT (6379); if nothing does and redis-server is
//           installed, one started there persisting nothing; with no Redis at all, ours alone,
//           and how to get Redis.
//
// Flags after the script (make's ARGS) go to bench.ts: `make 10-capstone ARGS="--clients 50
// --pipeline 16"`; `ARGS=--help` lists them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagError, isMain } from '../lib/cli.ts';
import { USAGE, parseBenchArgs, runBench } from '../10-capstone/bench.ts';
import { onPath } from '../test/helpers/redis-programs.ts';
import { persistenceOffFlags } from '../test/helpers/servers.ts';
import { stepsWithServer } from './check-docs.ts';
import { answersPing, portInUse, startRedisServer, startStepServer, type BenchServer } from './bench-processes.ts';

const CAPSTONE = '10-capstone';

/** The server to measure: the capstone's, or until it exists the newest step's. */
export function serverStep(root: string): string {
  const steps = stepsWithServer(root);
  return steps.includes(CAPSTONE) ? CAPSTONE : steps.at(-1)!;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let options;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    console.error(`Error: ${err.message} (make 10-capstone ARGS=--help lists the flags)`);
    return 2;
  }
  if (options === 'help') {
    console.log(`${USAGE}\n\nmake 10-capstone passes ARGS to it, and sets --port, --redis-port and --name itself:\nPORT=6380 and REDIS_PORT=6379 choose the ports.`);
    return 0;
  }
  const port = Number(process.env.PORT ?? 6380);
  const redisPort = Number(process.env.REDIS_PORT ?? 6379);
  const step = serverStep('.');
  const notes: string[] = [];
  if (step !== CAPSTONE) notes.push(`${CAPSTONE}/server.ts does not exist yet, so ${step}/server.ts, the newest step with a server, stands in for it`);
  if (await portInUse(port)) {
    console.error(`Error: something already listens on port ${port}; stop it, or give this run another port: make 10-capstone PORT=6390`);
    return 1;
  }
  const started: BenchServer[] = [];
  const stopAll = async () => {
    for (const server of started.splice(0)) await server.stop();
  };
  const interrupted = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const dir = mkdtempSync(join(tmpdir(), 'capstone-'));
  try {
    console.log(`Starting ${step}/server.ts on port ${port} (nothing persisted).`);
    started.push(await startStepServer(step, port, persistenceOffFlags(step, dir)));
    let comparedPort = redisPort;
    if (await answersPing(redisPort)) {
      console.log(`Using the Redis that answers on port ${redisPort}.`);
    } else if (onPath('redis-server')) {
      console.log(`Starting redis-server on port ${redisPort} (nothing persisted); it stops when the run ends.`);
      started.push(await startRedisServer(redisPort));
    } else {
      comparedPort = 0;
      notes.push(`no Redis answers on port ${redisPort}, and redis-server is not installed, so this is ours alone. To compare, install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) and run make 10-capstone again`);
    }
    const progress = process.stdout.isTTY ? (line: string) => process.stdout.write(`\r\x1b[K${line}`) : undefined;
    const command = `make 10-capstone${argv.length > 0 ? ` ARGS="${argv.join(' ')}"` : ''}`;
    await runBench({ ...options, port, 'redis-port': comparedPort, name: step }, { log: (line) => console.log(line), progress, command, notes });
    return 0;
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`);
    return 1;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) process.exitCode = await main();
