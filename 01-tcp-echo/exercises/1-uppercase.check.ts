// Exercise 1: shout the echo back. Run: make check STEP=01 EX=1
import { describe, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 1: uppercase echo', () => {
  // A fresh connection per test: bytes one test leaves unread cannot confuse the next.
  const t = useServer(() => startExerciseServer(import.meta.url));

  /** Sends `sent`; what comes back must be `expected`. Bytes a wrong answer adds show up in the next exchange. */
  const shout = async (sent: string, expected: string, hint: string) => {
    t.client.send(sent);
    // Short of the expected bytes after a while, show what did arrive.
    const got = await t.client.readBytes(expected.length, 2000).catch(() => t.client.takeAll());
    expectBytes(sent, got, expected, hint);
  };

  it('uppercases ASCII letters', async () => {
    await shout('hello\n', 'HELLO\n', 'every byte from "a" (0x61) to "z" (0x7a) comes back 0x20 lower: "A" to "Z"');
    await shout('world\n', 'WORLD\n', 'each chunk is shouted back, the second as the first');
  });

  it('changes every letter from a to z, and not the bytes just outside them', async () => {
    await shout(
      'abcdefghijklmnopqrstuvwxyz `{@[\n',
      'ABCDEFGHIJKLMNOPQRSTUVWXYZ `{@[\n',
      'the range includes both ends, "a" (0x61) and "z" (0x7a); "`" (0x60) and "{" (0x7b) are not letters',
    );
  });

  it('leaves everything else alone', async () => {
    await shout('MiXeD case, 123!\n', 'MIXED CASE, 123!\n', 'digits, punctuation and capitals pass through unchanged');
  });

  it('stays binary-safe: only the bytes a-z change', async () => {
    // \xe9 is "é" in latin1, \xff is "ÿ"; \xc3\xa9 is "é" in UTF-8. None of them is a-z.
    await shout(
      '\x00caf\xe9 \xff \xc3\xa9\n',
      '\x00CAF\xe9 \xff \xc3\xa9\n',
      'a string toUpperCase() also changes non-ASCII letters (and UTF-8 decoding mangles bytes): change only the bytes 0x61-0x7a',
    );
    await shout('stra\xdfe\n', 'STRA\xdfE\n', '"\\xdf" is "ß" in latin1: toUpperCase() makes it "SS", two bytes for one');
  });
});
