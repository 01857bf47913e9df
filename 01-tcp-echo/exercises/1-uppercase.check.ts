// Exercise 1: shout the echo back. Run: make check STEP=01 EX=1
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { RawClient } from '../../test/helpers/raw-client.ts';
import { startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

describe('exercise 1: uppercase echo', () => {
  let server: TestServer;
  let client: RawClient;
  beforeAll(async () => {
    server = await startExerciseServer(import.meta.url);
    client = await RawClient.connect(server.port);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  const shout = async (sent: string, expected: string, hint: string) => {
    client.send(sent);
    expectBytes(sent, await client.readBytes(expected.length), expected, hint);
  };

  it('uppercases ASCII letters', async () => {
    await shout('hello\n', 'HELLO\n', 'every byte from "a" (0x61) to "z" (0x7a) comes back 0x20 lower: "A" to "Z"');
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
  });
});
