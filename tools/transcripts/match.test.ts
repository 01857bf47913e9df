// The output matcher and the transcript reader on their own, without running anything.
import { describe, expect, it } from 'vitest';
import { agreement, asShown, lineMatches, matchOutput } from './match.ts';
import { OutputStream } from './output.ts';
import { parseTranscripts, type Input } from './parse.ts';
import { classifyShellLine, simpleCommandWords, withoutComment } from './shell-words.ts';

const STEPS = ['01-tcp-echo', '03-get-set'];
const expected = (...texts: string[]) => texts.map((text, i) => ({ line: 10 + i, text }));
const complete = (...lines: string[]) => ({ complete: lines, stream: null, waitMs: 50 });

describe('a line of output against the line the doc shows', () => {
  it('ignores trailing whitespace and a trailing \\r, nothing else', () => {
    expect(lineMatches('+PONG', '+PONG\r')).toBe(true);
    expect(lineMatches('node server.ts --port 6380', 'node server.ts --port 6380 ')).toBe(true);
    expect(lineMatches('+PONG', ' +PONG')).toBe(false);
    expect(lineMatches('+PONG', '+pong')).toBe(false);
  });

  it('compares a line as a terminal shows it: a \\r in the middle returns to its start', () => {
    const progress = ' \rSET: rps=0.0 (overall: 0.0)\r                              \rSET: 86559.40 requests per second';
    expect(asShown(progress).trimEnd()).toBe('SET: 86559.40 requests per second');
    expect(lineMatches('SET: … requests per second', progress)).toBe(true);
    expect(lineMatches('…rps=…', progress)).toBe(false);
    expect(asShown('ab\rX')).toBe('Xb');
  });

  it('lets … stand for any run of characters, even none, within the line', () => {
    expect(lineMatches('(integer) 17…', '(integer) 1796110283')).toBe(true);
    expect(lineMatches('a…b…c', 'abc')).toBe(true);
    expect(lineMatches('a…b…c', 'a-x-b-y-c')).toBe(true);
    expect(lineMatches('a…b', 'a-x-c')).toBe(false);
    expect(lineMatches('…PONG', 'PONG!')).toBe(false);
  });

  it('does not compare the pid, role, date and time of a log line', () => {
    const doc = '48213:M 24 Nov 2026 14:17:11.123 * Ready to accept connections on 127.0.0.1:6380';
    expect(lineMatches(doc, '7:S 01 Jan 2025 00:00:00.000 * Ready to accept connections on 127.0.0.1:6380')).toBe(true);
    expect(lineMatches(doc, '7:M 01 Jan 2025 00:00:00.000 # Ready to accept connections on 127.0.0.1:6380')).toBe(false);
    expect(lineMatches(doc, 'Ready to accept connections on 127.0.0.1:6380')).toBe(false);
  });

  it('puts the caret at the first character no match explains', () => {
    expect(agreement('1) "PONG"', '1) "PING"')).toEqual({ matches: false, at: 5 });
    expect(agreement('(integer) …0', '(integer) 17')).toEqual({ matches: false, at: 12 });
    // A longer pid moves the caret along with the received line's own prefix.
    expect(agreement('1:M 24 Nov 2026 14:17:11.123 * Ready', '12345:M 24 Nov 2026 14:17:11.123 * Reddy').at).toBe(37);
  });
});

describe('a command\'s output against the lines the doc shows', () => {
  it('wants every line of the command, in order: a missing or an extra one fails', async () => {
    expect(await matchOutput(expected('a', 'b'), complete('a', 'b'), false)).toBeNull();
    expect(await matchOutput(expected('a', 'b', 'c'), complete('a', 'b'), false)).toMatchObject({ kind: 'missing', expected: { line: 12, text: 'c' } });
    expect(await matchOutput(expected('a'), complete('a', 'b'), false)).toMatchObject({ kind: 'extra', received: 'b' });
    expect(await matchOutput(expected('a', 'c'), complete('a', 'b'), false)).toMatchObject({ kind: 'differs', received: 'b' });
  });

  it('lets a line of ... stand for any number of lines, and … never for more than one', async () => {
    expect(await matchOutput(expected('# Stats', '...', 'expired_keys:1', '...'), complete('# Stats', 'x:1', 'y:2', 'expired_keys:1', 'z:3'), false)).toBeNull();
    expect(await matchOutput(expected('a', '…', 'd'), complete('a', 'd'), false)).toBeNull();
    expect(await matchOutput(expected('a…b'), complete('a', 'b'), false)).toMatchObject({ kind: 'differs', received: 'a' });
  });

  it('takes lines that arrive later from the stream, waiting for them', async () => {
    const stream = new OutputStream((l) => l.toUpperCase());
    setTimeout(() => stream.write('later\n'), 20);
    expect(await matchOutput(expected('OK', 'LATER'), { complete: ['OK'], stream, waitMs: 2000 }, false)).toBeNull();
    expect(await matchOutput(expected('NEVER'), { complete: [], stream, waitMs: 30 }, false)).toMatchObject({ kind: 'missing' });
  });

  it('lets a last line of … take what a running program prints until it falls quiet, and no more', async () => {
    const stream = new OutputStream();
    stream.write('%7\n$6\nserver\n');
    setTimeout(() => stream.write('$5\nredis\n'), 20);
    setTimeout(() => stream.write('>3\n'), 1000); // the next command's output
    expect(await matchOutput(expected('%7', '…'), { complete: [], stream, waitMs: 2000 }, false)).toBeNull();
    expect(stream.pending()).toEqual([]);
    expect(await matchOutput(expected('>3'), { complete: [], stream, waitMs: 2000 }, false)).toBeNull();
  });

  it('compares lines as a multiset with any-order, redis-cli\'s element numbers aside', async () => {
    expect(await matchOutput(expected('1) "greeting"', '2) "counter"'), complete('1) "counter"', '2) "greeting"'), true)).toBeNull();
    expect(await matchOutput(expected('1) "greeting"', '2) "counter"'), complete('1) "counter"', '2) "visits"'), true)).toMatchObject({ kind: 'any-order', unmatched: ['2) "visits"'] });
    expect(await matchOutput(expected('1) "a"'), complete('1) "a"', '2) "b"'), true)).toMatchObject({ kind: 'any-order' });
  });
});

describe('reading a doc\'s transcripts', () => {
  const read = (markdown: string, files: string[] = []) => parseTranscripts(markdown, { doc: 'x/GUIDE.md', steps: STEPS, fileExists: (name) => files.includes(name) });
  const inputs = (markdown: string) => read(markdown).transcripts.map((t) => t.steps.map((s) => [s.terminal, s.input, s.expected.map((e) => e.text)]));

  it('knows transcripts from pictures and excerpts', () => {
    const doc = [
      '```text', 'client writes: "hello"', '```',
      '```text', '$ redis-cli -p 6380 ping', 'PONG', '```',
      '```sh', 'make 03-get-set', '```',
      '```ts server.ts', 'code', '```',
      '```ts try.ts', "console.log('hi')", '```',
      '```mermaid', 'graph', '```',
    ].join('\n');
    const { transcripts, problems } = read(doc, ['server.ts']);
    expect(problems).toEqual([]);
    expect(transcripts.map((t) => [t.line, t.kind])).toEqual([[4, 'transcript'], [8, 'commands'], [14, 'file']]);
    expect(transcripts[1]!.steps[0]!.input).toEqual<Input>({ kind: 'shell', command: 'make 03-get-set', compare: false });
    expect(transcripts[2]!.steps[0]!.input).toEqual<Input>({ kind: 'file', name: 'try.ts', content: "console.log('hi')\n" });
  });

  it('reads tags, and names problems: an unnamed ts fence, an unknown tag', () => {
    const doc = ['```text continued also-redis any-order', '$ true', '```', '```text no-replay: needs two machines', '$ ssh elsewhere', '```', '```ts', 'x', '```', '```text contineud', '$ true', '```'].join('\n');
    const { transcripts, problems } = read(doc);
    expect(transcripts[0]).toMatchObject({ continued: true, alsoRedis: true, anyOrder: true });
    expect(transcripts[1]!.noReplay).toBe('needs two machines');
    expect(problems.map((p) => p.line)).toEqual([1, 7, 10]);
    expect(problems[1]!.problem).toMatch(/a ts fence without a file name/);
    expect(problems[2]!.problem).toMatch(/unknown word\(s\).*contineud/);
  });

  it('follows terminals, prompts, nc sessions and keys', () => {
    const doc = [
      '```text',
      '$ make 01-tcp-echo',
      'started',
      '# terminal 2',
      '$ nc -N localhost 6380',
      '> hello',
      '< hello',
      '> > not a prompt',
      '< > not a prompt',
      '^D',
      '# terminal 1',
      'a log line',
      '^C',
      '127.0.0.1:6380> GET k',
      '"v"',
      '```',
    ].join('\n');
    expect(inputs(doc)).toEqual([
      [
        [1, { kind: 'shell', command: 'make 01-tcp-echo', compare: true }, ['started']],
        [2, { kind: 'shell', command: 'nc -N localhost 6380', compare: true }, []],
        [2, { kind: 'nc', text: 'hello' }, ['hello']],
        [2, { kind: 'nc', text: '> not a prompt' }, ['> not a prompt']],
        [2, { kind: 'key', key: '^D' }, []],
        [1, { kind: 'look' }, ['a log line']],
        [1, { kind: 'key', key: '^C' }, []],
        [1, { kind: 'cli', prompt: '127.0.0.1:6380', text: 'GET k' }, ['"v"']],
      ],
    ]);
  });

  it('says when output comes before anything typed', () => {
    expect(read('```text\n$$$\n```').transcripts).toEqual([]);
    expect(read('```text\n$ true\n```\n```text continued\n# terminal 2\nmeanwhile\n```').problems).toEqual([]);
    expect(read('```text any-order\nlonely output\n```').problems[0]!.problem).toMatch(/output before anything is typed/);
  });
});

describe('what a shell line is', () => {
  it('splits simple commands as bash would, and leaves the rest to bash', () => {
    expect(simpleCommandWords(`redis-cli -p 6380 echo "hello world" 'a b' c\\ d # note`)).toEqual(['redis-cli', '-p', '6380', 'echo', 'hello world', 'a b', 'c d']);
    expect(simpleCommandWords('redis-cli -p 6380 keys *')).toBeNull();
    expect(simpleCommandWords('redis-cli -p 6380 INFO | grep x')).toBeNull();
    expect(simpleCommandWords('echo "$HOME"')).toBeNull();
  });

  it('drops the comment that ends a simple command, and nothing else', () => {
    expect(withoutComment('make 02-resp-parser          # listens on port 6380')).toBe('make 02-resp-parser');
    expect(withoutComment(`make 05-aof-persistence ARGS="--dir 'data/#1'" # a second one`)).toBe(`make 05-aof-persistence ARGS="--dir 'data/#1'"`);
    expect(withoutComment('echo a#b')).toBe('echo a#b');
    expect(withoutComment("printf 'PING\\r\\n' | nc -N localhost 6380   # a pipe: bash's to read")).toBe("printf 'PING\\r\\n' | nc -N localhost 6380   # a pipe: bash's to read");
  });

  it('knows servers, emulated redis-cli, nc sessions and kills', () => {
    expect(classifyShellLine('make 03-get-set', STEPS)).toEqual({ kind: 'server', program: 'make', docPort: 6380, portGiven: false });
    expect(classifyShellLine('make 03-get-set PORT=6381', STEPS)).toMatchObject({ kind: 'server', docPort: 6381, portGiven: true });
    expect(classifyShellLine(`make 03-get-set ARGS="--port 6382 --loglevel debug"`, STEPS)).toMatchObject({ kind: 'server', docPort: 6382 });
    expect(classifyShellLine('make test', STEPS)).toEqual({ kind: 'bash' });
    expect(classifyShellLine('npx tsx 01-tcp-echo/server.ts --port 70000', STEPS)).toMatchObject({ kind: 'server', program: 'step', docPort: 70000 });
    expect(classifyShellLine('redis-cli -h localhost -p 6381 -3 GET k', STEPS)).toEqual({ kind: 'redis-cli', host: 'localhost', docPort: 6381, resp3: true, args: ['GET', 'k'] });
    expect(classifyShellLine('redis-cli -p 6380 --raw GET k', STEPS)).toEqual({ kind: 'bash' });
    expect(classifyShellLine('nc -C -N localhost 6380', STEPS)).toEqual({ kind: 'nc', words: ['nc', '-C', '-N', 'localhost', '6380'] });
    expect(classifyShellLine("printf 'PING\\r\\n' | nc -N localhost 6380", STEPS)).toEqual({ kind: 'bash' });
    expect(classifyShellLine("pkill -9 -f 'server.ts --port 6380'", STEPS)).toEqual({ kind: 'kill' });
  });
});
