// Exercise 2: count the bytes of each connection, and report them on "stats".
// Run: make check STEP=01 EX=2
import { describe, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { RawClient } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 2: a per-connection byte counter', () => {
  // A fresh server per test: a counter shared by the whole server shows up as a wrong count,
  // not as a leftover from an earlier test.
  const { connect } = useServer(() => startExerciseServer(import.meta.url), { serverPer: 'each' });
  const exchange = async (client: RawClient, sent: string, expected: string, hint?: string) => {
    client.send(sent);
    // Short of the expected bytes after a while, show what did arrive.
    const got = await client.readBytes(expected.length, 2000).catch(() => client.takeAll());
    expectBytes(sent, got, expected, hint);
  };

  it('echoes as before, then answers a "stats" line with the bytes received so far', async () => {
    const client = await connect();
    await exchange(client, 'hello\n', 'hello\n', 'ordinary lines are still echoed');
    await exchange(
      client,
      'stats\n',
      'stats\nbytes received: 12\n',
      'after echoing the line "stats\\n", send "bytes received: N\\n"; N counts every byte of this connection, the stats line included (6 + 6)',
    );
  });

  it('finds "stats" even when it arrives in two pieces', async () => {
    const client = await connect();
    // The echo of "st" comes back before "ats\n" is sent, so the server surely saw two chunks.
    await exchange(client, 'st', 'st');
    await exchange(
      client,
      'ats\n',
      'ats\nbytes received: 6\n',
      'TCP is a byte stream: one line can arrive in several "data" events. Remember the start of the current line between chunks',
    );
  });

  it('only a whole line "stats" counts, and each connection has its own counter', async () => {
    const client = await connect();
    await exchange(client, 'my stats\n', 'my stats\n', '"my stats" is not the line "stats": echo it and nothing more');
    await exchange(client, 'stats\nstats\n', 'stats\nbytes received: 15\nstats\nbytes received: 21\n', 'two stats lines in one chunk give two reports');
    const other = await connect();
    await exchange(other, 'stats\n', 'stats\nbytes received: 6\n', 'a new connection starts counting from zero');
  });
});
