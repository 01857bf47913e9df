// Exercise 3: hang up on HTTP (cross-protocol scripting), as Redis does.
// Run: make check STEP=02 EX=3   (TARGET=redis make check STEP=02 EX=3 shows real Redis)
import { describe, expect, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 3: hang up on HTTP', () => {
  const { connect } = useServer(() => startExerciseServer(import.meta.url));

  /** Sends `bytes` and expects the server to close the connection without a byte of reply. */
  const expectHangUp = async (bytes: string, hint: string) => {
    const client = await connect();
    client.send(bytes);
    // If the server never closes, show what it sent instead.
    const got = await client.readUntilClose(2000).catch(() => client.takeAll());
    expectBytes(bytes, got, '', hint);
    expect(client.isClosed, `the server must close the connection: ${hint}`).toBe(true);
  };

  it('closes, without a reply, a connection that sends an HTTP POST', async () => {
    await expectHangUp(
      'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n',
      'a command named POST is HTTP, not Redis: send nothing back, close the connection',
    );
  });

  it('closes on a "Host:" line too', async () => {
    await expectHangUp('Host: localhost\r\n', 'a command named "Host:" (with the colon) is an HTTP header');
  });

  it('whatever the case and the framing', async () => {
    await expectHangUp(command('post', 'x'), 'names are compared case-insensitively, in inline and multibulk requests alike');
    await expectHangUp('hOsT: x\r\n', 'names are compared case-insensitively');
  });

  it('drops the replies to the commands before it in the same read', async () => {
    await expectHangUp(
      'PING\r\nPOST / HTTP/1.1\r\n',
      "the connection is aborted, not answered: the +PONG already encoded for this read is never sent (Redis frees the client with its reply buffer)",
    );
  });

  it('leaves look-alikes and other clients alone', async () => {
    const client = await connect();
    await client.expectReply('HOST\r\n', "-ERR unknown command 'HOST', with args beginning with: \r\n", 'only "host:" with its colon is HTTP');
    await client.expectReply('PING\r\n', '+PONG\r\n', 'the connection stays open after an ordinary unknown command');
    await expectHangUp('POST /\r\n', 'POST closes its own connection');
    await client.expectReply('PING\r\n', '+PONG\r\n', 'another connection keeps working');
  });
});
