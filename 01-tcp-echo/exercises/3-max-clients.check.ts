// Exercise 3: limit the number of clients (Redis's maxclients). Run: make check STEP=01 EX=3
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBytes } from '../../test/helpers/bytes.ts';
import { RawClient } from '../../test/helpers/raw-client.ts';
import { startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

const REFUSAL = '-ERR max number of clients reached\r\n';

describe('exercise 3: --maxclients', () => {
  let server: TestServer;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    server = await startExerciseServer(import.meta.url, { maxclients: 2 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server.close();
  });
  const connect = async () => {
    const client = await RawClient.connect(server.port);
    clients.push(client);
    return client;
  };
  const echoes = async (client: RawClient, text: string) => {
    client.send(text);
    expectBytes(text, await client.readBytes(text.length), text, 'a client within the limit is served as before');
  };

  it('serves up to maxclients clients, and refuses one more with Redis\'s error', async () => {
    const first = await connect();
    const second = await connect();
    await echoes(first, 'one\n');
    await echoes(second, 'two\n');

    const third = await connect();
    third.send('three\n');
    // If the server never closes, show what did arrive.
    const got = await third.readUntilClose(2000).catch(() => third.takeAll());
    expectBytes(
      'three\n',
      got,
      REFUSAL,
      'with --maxclients 2 a third client gets "-ERR max number of clients reached\\r\\n" and is disconnected, without its bytes echoed',
    );
    expect(third.isClosed, 'the refused client must be disconnected').toBe(true);
    await echoes(first, 'still one\n');
  });

  it('a slot frees up when a client leaves', async () => {
    // The server learns of the close a moment after the client does: retry, each try waits
    // for the server's answer (an echo or a refusal), never for a fixed time.
    const leaving = clients.shift()!;
    leaving.endWriting();
    await leaving.closed;
    for (let attempt = 1; ; attempt++) {
      const newcomer = await connect();
      newcomer.send('new\n');
      const got = await Promise.race([newcomer.readBytes(4).then(String, () => 'closed'), newcomer.closed.then(() => 'closed')]);
      if (got === 'new\n') break;
      expect(attempt, 'the count of clients must go down when one disconnects (listen for "close")').toBeLessThan(20);
    }
  });
});
