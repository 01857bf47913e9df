// The replayer on small docs written here: transcripts that are right pass (terminals,
// `continued`, servers started with make and by the lines that talk to them, a saved ts
// file run with npx tsx, ^C, a server killed by its port, redis-cli prompts and
// SUBSCRIBE, any-order, also-redis); each deliberately wrong one fails, naming the doc's
// file and line, what was typed, and expected against received with a caret. Nothing the
// replay started is left running, and its scratch folders are gone, also after Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPrograms } from '../../test/helpers/real-redis.ts';
import { ROOT } from '../../test/helpers/servers.ts';
import { replayDocs, summary, type ReplayResult } from './replay.ts';

const fence = (info: string, ...lines: string[]) => ['```' + info, ...lines, '```', ''];

const GOOD: Record<string, string[]> = {
  '01-tcp-echo/good.md': [
    '# Everything that works',
    '',
    'A server with its log in one terminal, nc in another:',
    '',
    ...fence(
      'text',
      '$ make 01-tcp-echo ARGS="--loglevel debug"',
      'node --import tsx 01-tcp-echo/server.ts --port 6380 --loglevel debug',
      '48213:M 24 Nov 2026 14:17:11.123 * Ready to accept connections on 127.0.0.1:6380, [::1]:6380',
      '# terminal 2',
      '$ nc -N localhost 6380',
      '> hello',
      '< hello',
      '^D',
      '# terminal 1',
      '…:M … . Accepted 127.0.0.1:…',
      '…:M … . Client closed connection 127.0.0.1:…',
      '^C',
      'make: *** [Makefile:…: 01-tcp-echo] Interrupt',
    ),
    'One-shot redis-cli, pipes, and ports and folders mapped both ways:',
    '',
    ...fence(
      'text',
      '$ redis-cli -p 6380 PING',
      '1) "PING"',
      "$ printf 'a\\nb\\n' | nc -N localhost 6380",
      'a',
      'b',
      '$ echo "typed 6380 in $(pwd)"',
      'typed 6380 in /home/you/build-your-own-redis-typescript',
      "$ printf 'x\\r\\ny\\r\\n' > data/f.txt; cat -A /home/you/build-your-own-redis-typescript/data/f.txt",
      'x^M$',
      'y^M$',
      '$ nosuchcommand',
      'bash: nosuchcommand: command not found',
    ),
    'A file the reader saves, run, then the server killed by its port:',
    '',
    ...fence('ts try.ts', "import net from 'node:net';", "const socket = net.connect(6380, '127.0.0.1', () => socket.end('ping\\n'));", 'socket.on(\'data\', (d) => process.stdout.write(`echoed: ${d}`));'),
    ...fence('text continued', '$ npx tsx try.ts', 'echoed: ping', "$ pkill -9 -f 'server.ts --port 6380'", '$ redis-cli -p 6380 PING', 'Could not connect to Redis at 127.0.0.1:6380: Connection refused'),
    'Commands without prompts run too; the shell keeps what they define:',
    '',
    ...fence('sh', 'greet() { echo "hello, $1"; }'),
    ...fence('text continued', '$ greet reader', 'hello, reader'),
    ...fence('text no-replay: needs a second machine', '$ ssh elsewhere uptime'),
    ...fence('text continued', '$ true'),
    'A server started by a line that ends in a comment listens where the next line talks to:',
    '',
    ...fence('sh', 'make 01-tcp-echo          # listens on port 6380'),
    ...fence('text continued', "$ printf 'hi\\n' | nc -N localhost 6380", 'hi'),
  ],
  '07-pubsub/good.md': [
    '# A prompt, a subscriber, any order, and real Redis',
    '',
    ...fence(
      'text',
      '$ redis-cli -p 6380',
      '127.0.0.1:6380> SET greeting hello',
      'OK',
      '127.0.0.1:6380> MULTI',
      'OK',
      '127.0.0.1:6380(TX)> INCR visits',
      'QUEUED',
      '127.0.0.1:6380(TX)> EXEC',
      '1) (integer) 1',
      '127.0.0.1:6380> SUBSCRIBE news',
      'Reading messages... (press Ctrl-C to quit)',
      '1) "subscribe"',
      '2) "news"',
      '3) (integer) 1',
      '# terminal 2',
      '$ redis-cli -p 6380 PUBLISH news hello',
      '(integer) 1',
      '# terminal 1',
      '1) "message"',
      '2) "news"',
      '3) "hello"',
      '^C',
      '127.0.0.1:6380> GET greeting',
      '"hello"',
    ),
    ...fence('text any-order', '$ redis-cli -p 6380 MSET a 1 b 2 c 3', 'OK', "$ redis-cli -p 6380 KEYS '*'", '1) "c"', '2) "a"', '3) "b"'),
    ...fence('text also-redis', '127.0.0.1:6380> SET k v', 'OK', '127.0.0.1:6380> GET k', '"v"'),
  ],
};

/** Each wrong in one way, each in a doc of its own. */
const BROKEN: Record<string, string[]> = {
  '01-tcp-echo/wrong-reply.md': ['# x', '', ...fence('text', '$ redis-cli -p 6380 PING', '1) "PONG"')],
  '01-tcp-echo/missing-line.md': ['# x', '', ...fence('text', "$ printf 'a\\nb\\n' | nc -N localhost 6380", 'a', 'b', 'c')],
  '01-tcp-echo/extra-line.md': ['# x', '', ...fence('text', "$ printf 'a\\nb\\n' | nc -N localhost 6380", 'a')],
  '01-tcp-echo/wrong-log.md': ['# x', '', ...fence('text', '$ make 01-tcp-echo', 'node --import tsx 01-tcp-echo/server.ts --port 6380', '1:M 24 Nov 2026 14:17:11.123 * Ready to accept connections on 127.0.0.1:6381, [::1]:6381')],
  '01-tcp-echo/ellipsis.md': ['# x', '', ...fence('text', "$ printf 'a\\nb\\n'", 'a…b')],
  '01-tcp-echo/wrong-file.md': ['# x', '', ...fence('text', "$ printf 'saved\\n' > data/f.txt", '$ cat data/f.txt', 'safed')],
  '01-tcp-echo/wrong-prompt.md': ['# x', '', ...fence('text', '127.0.0.1:6380(TX)> PING', '1) "PING"')],
  '07-pubsub/order.md': ['# x', '', ...fence('text', '$ redis-cli -p 6380 MSET a 1 b 2 c 3', 'OK', "$ redis-cli -p 6380 KEYS '*'", '1) "c"', '2) "a"', '3) "b"')],
  '01-tcp-echo/format.md': ['# x', '', ...fence('ts', 'unnamed();'), ...fence('text contineud', '$ true')],
};

let docRoot: string;
let result: ReplayResult;
const texts = { ...GOOD, ...BROKEN };

/** The line of `doc` holding `text` (the first at or after line `from`). */
function lineOf(doc: string, text: string, from = 1): number {
  const at = texts[doc]!.findIndex((l, i) => i + 1 >= from && l === text);
  if (at < 0) throw new Error(`${text} not in ${doc}`);
  return at + 1;
}

const failureOf = (doc: string) => {
  const index = result.failures.findIndex((f) => f.doc === doc);
  return { failure: result.failures[index]!, report: result.report.find((r) => r.startsWith(`${doc}:`))! };
};

/** Scratch folders (transcript-*) something still runs in, and those still on disk. */
function leftovers(): { running: string[]; folders: string[] } {
  const running: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(join(tmpdir(), 'transcript-'))) running.push(`${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()} (pid ${pid}, in ${cwd})`);
    } catch {
      // gone, or not ours to see
    }
  }
  return { running, folders: readdirSync(tmpdir()).filter((d) => d.startsWith('transcript-')) };
}

describeWithPrograms(['nc', 'redis-server'], 'replaying transcripts', () => {
  let foldersBefore: string[];
  beforeAll(async () => {
    docRoot = mkdtempSync(join(tmpdir(), 'transcript-docs-'));
    for (const [path, lines] of Object.entries(texts)) {
      mkdirSync(dirname(join(docRoot, path)), { recursive: true });
      writeFileSync(join(docRoot, path), lines.join('\n'));
    }
    foldersBefore = leftovers().folders;
    result = await replayDocs({ root: ROOT, docRoot, docs: Object.keys(texts) });
  }, 120_000);
  afterAll(() => rmSync(docRoot, { recursive: true, force: true }));

  it('replays every good transcript, and counts them', () => {
    const goodFailures = result.failures.filter((f) => f.doc in GOOD).map((f) => result.report.find((r) => r.startsWith(`${f.doc}:${f.line}`)));
    expect(goodFailures).toEqual([]);
    // good.md: 9 replayed in 6 sessions (a ts file counts); 07: 3 in 3; broken: 8 in 8.
    expect(summary(result)[0]).toBe('transcripts: 20 replayed in 17 sessions (1 also against Redis), 2 not replayed:');
    expect(result.notReplayed).toEqual([
      { doc: '01-tcp-echo/good.md', line: lineOf('01-tcp-echo/good.md', '```text no-replay: needs a second machine'), reason: 'needs a second machine' },
      { doc: '01-tcp-echo/good.md', line: lineOf('01-tcp-echo/good.md', '```text continued', lineOf('01-tcp-echo/good.md', '```text no-replay: needs a second machine')), reason: `continues the transcript at line ${lineOf('01-tcp-echo/good.md', '```text no-replay: needs a second machine')}, which is not replayed` },
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('fails a wrong reply at its line, with what was typed and a caret', () => {
    const { failure, report } = failureOf('01-tcp-echo/wrong-reply.md');
    expect(failure.line).toBe(5);
    expect(report).toBe(
      [
        '01-tcp-echo/wrong-reply.md:5: in terminal 1, after line 4',
        '  typed:     $ redis-cli -p 6380 PING',
        '  expected:  "1) \\"PONG\\""',
        '  received:  "1) \\"PING\\""',
        '                    ^ first difference at character 5',
      ].join('\n'),
    );
  });

  it('fails a missing line and an extra line', () => {
    expect(failureOf('01-tcp-echo/missing-line.md').report).toMatch(/^01-tcp-echo\/missing-line\.md:7: in terminal 1, after line 4\n {2}typed: {5}\$ printf 'a\\nb\\n' \| nc -N localhost 6380\n {2}expected: {2}"c"\n {2}received: {2}nothing/);
    expect(failureOf('01-tcp-echo/extra-line.md').report).toMatch(/^01-tcp-echo\/extra-line\.md:5: in terminal 1, after line 4\n.*\n {2}expected: {2}nothing more.*\n {2}received: {2}"b"$/);
  });

  it('fails a wrong log line, the pid and time aside', () => {
    const { report } = failureOf('01-tcp-echo/wrong-log.md');
    expect(report.split('\n').slice(0, 3)).toEqual(['01-tcp-echo/wrong-log.md:6: in terminal 1, after line 4', '  typed:     $ make 01-tcp-echo', '  expected:  "1:M 24 Nov 2026 14:17:11.123 * Ready to accept connections on 127.0.0.1:6381, [::1]:6381"']);
    const [received, caret] = report.split('\n').slice(3, 5) as [string, string];
    expect(received).toMatch(/^ {2}received: {2}"\d+:M \d\d \w{3} \d{4} [\d:.]+ \* Ready to accept connections on 127\.0\.0\.1:6380, \[::1\]:6380"$/);
    expect(received[caret.indexOf('^')]).toBe('0'); // under the port's last digit
  });

  it('never lets … match across lines', () => {
    expect(failureOf('01-tcp-echo/ellipsis.md').report).toMatch(/expected: {2}"a…b"\n {2}received: {2}"a"\n {15}\^ first difference at character 1\n {2}\(the line stops short\)\n {2}what terminal 1 printed after that:\n {4}\| b$/);
  });

  it('fails a file whose content is not what the doc shows', () => {
    expect(failureOf('01-tcp-echo/wrong-file.md').report).toMatch(/:6: in terminal 1, after line 5\n {2}typed: {5}\$ cat data\/f\.txt\n {2}expected: {2}"safed"\n {2}received: {2}"saved"\n {16}\^ first difference at character 2$/);
  });

  it('wants the order shown unless the transcript is any-order', () => {
    expect(failureOf('07-pubsub/order.md').report).toMatch(/:7: in terminal 1, after line 6\n {2}typed: {5}\$ redis-cli -p 6380 KEYS '\*'\n {2}expected: {2}"1\) \\"c\\""\n {2}received: {2}"1\) \\"a\\""/);
  });

  it('checks the prompt a line is typed at', () => {
    expect(failureOf('01-tcp-echo/wrong-prompt.md').report).toMatch(/:4: in terminal 1\n {2}typed: {5}127\.0\.0\.1:6380\(TX\)> PING\n {2}the prompt is "127\.0\.0\.1:6380>" here, not "127\.0\.0\.1:6380\(TX\)>"/);
  });

  it('names format problems: a ts fence without a file name, an unknown tag', () => {
    expect(result.problems.map((p) => `${p.doc}:${p.line}`)).toEqual(['01-tcp-echo/format.md:3', '01-tcp-echo/format.md:7']);
    expect(result.failures.map((f) => f.doc).sort()).toEqual(Object.keys(BROKEN).filter((d) => !d.endsWith('format.md')).sort());
  });

  it('leaves nothing running and no scratch folder behind', async () => {
    await expect.poll(() => leftovers().running, { timeout: 3000 }).toEqual([]);
    const now = leftovers();
    expect(now.folders.filter((f) => !foldersBefore.includes(f) && !f.startsWith('transcript-docs-'))).toEqual([]);
  });

  it('stops everything when the replayer itself gets Ctrl-C', async () => {
    const doc = join(docRoot, '01-tcp-echo/slow.md');
    writeFileSync(doc, ['# x', '', ...fence('text', '$ make 01-tcp-echo', '...', '$ sleep 60')].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/replay-transcripts.ts', relative(ROOT, doc)], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await expect.poll(() => leftovers().running.filter((r) => r.includes('transcript-')).length, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(2);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    // Killed, each process takes a moment to be gone.
    await expect.poll(() => leftovers().running, { timeout: 3000 }).toEqual([]);
  }, 30_000);
}, 'apt-get install netcat-openbsd redis-server redis-tools');
