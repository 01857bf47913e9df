// A failing check points at the check: every helper that throws a teaching failure leaves
// its own frames off the stack, so the first frame, whose code vitest prints under the
// report, is the test's line that called it. Proven on the errors themselves, then on what
// vitest prints for a failing check file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBytes, expectBytesToContain, expectBytesToStartWith, expectCommands, expectContent } from './bytes.ts';
import { RawClient, command } from './raw-client.ts';
import { startStep, type TestServer } from './servers.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The stack's frames ("at ..." lines), trimmed, without node's own (the microtask queue
 * an awaited failure resumes in), which vitest skips too when it picks the code to show.
 */
const frames = (err: Error): string[] =>
  (err.stack ?? '').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('at ') && !l.includes('(node:internal/'));

/** What `act` threw (it must throw). */
async function failure(act: () => unknown): Promise<Error> {
  try {
    await act();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** The first frame is in this file, and no frame is in a helper. */
function expectToPointHere(err: Error): void {
  const stack = frames(err);
  expect(stack[0], `the first frame of:\n${err.stack}`).toContain(THIS_FILE);
  expect(stack.filter((f) => /helpers\/(bytes|raw-client)\.ts/.test(f)), `helper frames in:\n${err.stack}`).toEqual([]);
}

describe('the teaching failures of bytes.ts start at the caller', () => {
  it('expectBytes, expectBytesToStartWith, expectBytesToContain, expectContent, expectCommands', async () => {
    expectToPointHere(await failure(() => expectBytes('PING\r\n', '+PANG\r\n', '+PONG\r\n')));
    expectToPointHere(await failure(() => expectBytesToStartWith('HELLO 3\r\n', '*14\r\n', '%7\r\n')));
    expectToPointHere(await failure(() => expectBytesToContain('HELLO 3\r\n', '%1\r\n', ':3\r\n')));
    expectToPointHere(await failure(() => expectContent('appendonly.aof', 'abc', 'abd')));
    expectToPointHere(await failure(() => expectCommands('the AOF', [], [['SELECT', '0']])));
  });
});

describe('the failures of RawClient start at the caller', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startStep('03-get-set');
  });
  afterAll(() => server?.close());

  it('expectReply, when the reply differs and when the connection closes first', async () => {
    const client = await RawClient.connect(server.port);
    try {
      const err = await failure(() => client.expectReply(command('SETRANGE', 'k', '0', 'v'), ':1\r\n'));
      expect(err.message).toContain('unknown command');
      expectToPointHere(err);
      const closed = await failure(() => client.expectReply(command('QUIT'), '+OK\r\n+OK\r\n'));
      expect(closed.message).toContain('connection closed');
      expectToPointHere(closed);
      expectToPointHere(await failure(() => client.request(command('PING'))));
    } finally {
      client.destroy();
    }
  });

  it('readReplies, readBytes and readUntilClose, when they time out', async () => {
    const client = await RawClient.connect(server.port);
    try {
      for (const read of [() => client.readReplies(1, 20), () => client.readBytes(1, 20), () => client.readUntilClose(20)]) {
        const err = await failure(read);
        expect(err.message).toMatch(/^timed out waiting for /);
        expectToPointHere(err);
      }
    } finally {
      client.destroy();
    }
  });
});

describe('what vitest prints for a failing check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'failure-frames-'));
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows the check's line under the report, not the helper's", async () => {
    const helpers = (name: string) => JSON.stringify(join(REPO, 'test/helpers', name));
    // Line 7 is the call that fails; the columns before it are the indentation.
    const check = [
      `import { afterAll, beforeAll, it } from 'vitest';`,
      `import { RawClient, command } from ${helpers('raw-client.ts')};`,
      `import { startStep } from ${helpers('servers.ts')};`,
      `let server; beforeAll(async () => { server = await startStep('03-get-set'); }); afterAll(() => server.close());`,
      `it('SETRANGE answers the new length', async () => {`,
      `  const client = await RawClient.connect(server.port);`,
      `  await client.expectReply(command('SETRANGE', 'greeting', '6', 'Redis'), ':11\\r\\n', 'the length after the write');`,
      `});`,
    ].join('\n');
    writeFileSync(join(dir, 'setrange.check.test.ts'), `${check}\n`);
    const output = await runVitest(dir, 'setrange.check.test.ts');
    expect(output, output).toContain('hint: the length after the write');
    expect(output, output).toMatch(/❯ setrange\.check\.test\.ts:7:3\n/);
    expect(output, output).toMatch(/^ +7\| +await client\.expectReply\(command\('SETRANGE'/m);
    expect(output, output).not.toMatch(/raw-client\.ts|helpers\/bytes\.ts/);
  });
});

/** Runs vitest on one file in `dir` (colours off); resolves with what it printed. */
function runVitest(dir: string, file: string): Promise<string> {
  const vitest = spawn(join(REPO, 'node_modules/.bin/vitest'), ['run', '--root', dir, file], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TARGET: 'step' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  vitest.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  vitest.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => vitest.once('close', () => resolve(output)));
}
