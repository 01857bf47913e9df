// Exercise 2: RENAME and RENAMENX.
// Run: make check STEP=03 EX=2   (TARGET=redis make check STEP=03 EX=2 shows real Redis)
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

describe('exercise 2: RENAME and RENAMENX', () => {
  let server: TestServer;
  let client: RawClient;
  beforeAll(async () => {
    server = await startExerciseServer(import.meta.url);
  });
  afterAll(async () => {
    await server?.close();
  });
  // A connection per test, so a reply left unread by one failing test cannot confuse the next.
  beforeEach(async () => {
    client = await RawClient.connect(server.port);
  });
  afterEach(() => client.destroy());
  const flush = () => client.expectReply(command('FLUSHALL'), '+OK\r\n');

  it('RENAME moves a value to a new name', async () => {
    await flush();
    await client.expectReply(command('SET', 'old', 'value'), '+OK\r\n');
    await client.expectReply(command('RENAME', 'old', 'new'), '+OK\r\n', 'RENAME answers +OK');
    await client.expectReply(command('GET', 'new'), '$5\r\nvalue\r\n', 'the value is now under the new name');
    await client.expectReply(command('EXISTS', 'old'), ':0\r\n', 'and the old name is gone');
  });

  it('RENAME overwrites a key that has the new name', async () => {
    await flush();
    await client.expectReply(command('MSET', 'a', '1', 'b', '2'), '+OK\r\n');
    await client.expectReply(command('RENAME', 'a', 'b'), '+OK\r\n');
    await client.expectReply(command('GET', 'b'), '$1\r\n1\r\n', "b's old value is replaced");
    await client.expectReply(command('DBSIZE'), ':1\r\n', 'two keys became one');
  });

  it('RENAME of a missing key is an error', async () => {
    await flush();
    await client.expectReply(command('RENAME', 'ghost', 'x'), '-ERR no such key\r\n', "Redis's words: \"ERR no such key\"");
    await client.expectReply(command('RENAME', 'ghost', 'ghost'), '-ERR no such key\r\n', 'even when both names are the same');
  });

  it('RENAME a key to itself keeps it', async () => {
    await flush();
    await client.expectReply(command('SET', 'same', 'v'), '+OK\r\n');
    await client.expectReply(command('RENAME', 'same', 'same'), '+OK\r\n');
    await client.expectReply(command('GET', 'same'), '$1\r\nv\r\n', 'deleting the old name after setting the new one loses the key when they are equal');
  });

  it('RENAMENX renames only when the new name is free', async () => {
    await flush();
    await client.expectReply(command('MSET', 'a', '1', 'b', '2'), '+OK\r\n');
    await client.expectReply(command('RENAMENX', 'a', 'b'), ':0\r\n', 'b exists: answer 0 and change nothing');
    await client.expectReply(command('MGET', 'a', 'b'), '*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
    await client.expectReply(command('RENAMENX', 'a', 'c'), ':1\r\n', 'c is free: rename, answer 1');
    await client.expectReply(command('MGET', 'a', 'c'), '*2\r\n$-1\r\n$1\r\n1\r\n');
    await client.expectReply(command('RENAMENX', 'c', 'c'), ':0\r\n', 'renaming a key to itself: the new name is taken (by itself), so 0');
    await client.expectReply(command('RENAMENX', 'ghost', 'x'), '-ERR no such key\r\n');
  });

  it('keys and values stay binary-safe', async () => {
    await flush();
    await client.expectReply(command('SET', 'k\x00\xff', 'v\r\n'), '+OK\r\n');
    await client.expectReply(command('RENAME', 'k\x00\xff', '\xfe'), '+OK\r\n');
    await client.expectReply(command('GET', '\xfe'), '$3\r\nv\r\n\r\n');
  });

  it('both are in the command table, with their arity', async () => {
    await client.expectReply(command('RENAME', 'a'), "-ERR wrong number of arguments for 'rename' command\r\n", 'RENAME key newkey: arity 3');
    await client.expectReply(command('renamenx', 'a', 'b', 'c'), "-ERR wrong number of arguments for 'renamenx' command\r\n");
  });
});
