// Exercise 4: RESET, a connection as good as new. Run: make check STEP=05 EX=4
// RESET is a Redis command (6.2 on): TARGET=redis make check STEP=05 EX=4 runs the same
// check against a real redis-server, to see the reference behaviour.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

describe('exercise 4: RESET', () => {
  let dir: string;
  let server: TestServer;
  let clients: RawClient[];
  const connect = async () => {
    const c = await RawClient.connect(server.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'reset-'));
    server = await startExerciseServer(import.meta.url, { dir });
    clients = [];
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers +RESET, and takes no arguments', async () => {
    const c = await connect();
    await c.expectReply(command('RESET'), '+RESET\r\n', 'add RESET to the command table (connection.ts: Redis has it in networking.c); it answers the simple string RESET');
    await c.expectReply(command('RESET', 'now'), "-ERR wrong number of arguments for 'reset' command\r\n", 'RESET takes no arguments: arity 1');
  });

  it('ends a transaction: the queue is dropped and nothing of it runs', async () => {
    const c = await connect();
    await c.expectReply(
      command('MULTI') + command('SET', 'a', '1') + command('RESET'),
      '+OK\r\n+QUEUED\r\n+RESET\r\n',
      'inside MULTI, RESET must run at once, not be queued: like EXEC, DISCARD, WATCH and QUIT, it acts on the transaction itself (transactions.ts)',
    );
    await c.expectReply(command('EXEC'), '-ERR EXEC without MULTI\r\n', 'after RESET the connection is out of MULTI');
    await c.expectReply(command('GET', 'a'), '$-1\r\n', 'the queued SET never ran');
  });

  it('forgets the watched keys: another client\'s write no longer fails the next EXEC', async () => {
    const c = await connect();
    const other = await connect();
    await c.expectReply(command('WATCH', 'k') + command('RESET'), '+OK\r\n+RESET\r\n');
    await other.expectReply(command('SET', 'k', 'theirs'), '+OK\r\n');
    await c.expectReply(
      command('MULTI') + command('GET', 'k') + command('EXEC'),
      '+OK\r\n+QUEUED\r\n*1\r\n$6\r\ntheirs\r\n',
      'a null EXEC (*-1) means k was still watched: RESET unwatches every key, as UNWATCH does',
    );
  });

  it('clears a watched key that already changed', async () => {
    const c = await connect();
    await c.expectReply(command('WATCH', 'k') + command('SET', 'k', 'mine') + command('RESET'), '+OK\r\n+OK\r\n+RESET\r\n');
    await c.expectReply(
      command('MULTI') + command('PING') + command('EXEC'),
      '+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n',
      'k changed while watched, which marked the connection; RESET clears the mark too (discardTransaction does all of it)',
    );
  });

  it('goes back to RESP2 and forgets the connection\'s name', async () => {
    const c = await connect();
    await c.request(command('HELLO', '3')); // its id differs from server to server
    await c.expectReply(command('CLIENT', 'SETNAME', 'worker'), '+OK\r\n');
    await c.expectReply(command('RESET'), '+RESET\r\n');
    await c.expectReply(
      command('CLIENT', 'GETNAME'),
      '$-1\r\n',
      'no name, in RESP2: "$6\\r\\nworker\\r\\n" means the name stayed; "_\\r\\n" is RESP3\'s null (the protocol stayed 3)',
    );
  });
});
