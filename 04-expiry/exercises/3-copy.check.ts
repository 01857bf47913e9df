// Exercise 3: COPY, and the deadline that is a point in time. Run: make check STEP=04 EX=3
import { beforeEach, describe, it } from 'vitest';
import { useServer } from '../../test/helpers/fixtures.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

/** 2100-01-01T00:00:00Z: a deadline no test run reaches. */
const EXAT = '4102444800';

describe('exercise 3: COPY', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));
  beforeEach(async () => {
    await t.client.request(command('FLUSHALL'));
  });

  it('copies a value', async () => {
    await t.client.request(command('SET', 'original', 'v'));
    await t.client.expectReply(command('COPY', 'original', 'copy'), ':1\r\n', 'COPY answers 1 when it copied');
    await t.client.expectReply(command('MGET', 'original', 'copy'), '*2\r\n$1\r\nv\r\n$1\r\nv\r\n', 'both keys hold the value');
  });

  it('copies the deadline: the same point in time', async () => {
    await t.client.request(command('SET', 'session', 'v', 'EXAT', EXAT));
    await t.client.expectReply(command('COPY', 'session', 'backup'), ':1\r\n');
    await t.client.expectReply(command('EXPIRETIME', 'backup'), `:${EXAT}\r\n`, 'the copy must die when the original dies: give it the same absolute deadline');
    await t.client.expectReply(command('EXPIRETIME', 'session'), `:${EXAT}\r\n`, 'the original keeps its deadline');
  });

  it('answers 0 for a missing or expired source', async () => {
    await t.client.expectReply(command('COPY', 'missing', 'x'), ':0\r\n');
    await t.client.request(command('SET', 'dead', 'v', 'PXAT', '1'));
    await t.client.expectReply(command('COPY', 'dead', 'x'), ':0\r\n', 'a key past its deadline does not exist: look it up through the keyspace');
    await t.client.expectReply(command('EXISTS', 'x'), ':0\r\n');
  });

  it('leaves an existing destination alone, unless REPLACE', async () => {
    await t.client.request(command('SET', 'src', 'new'));
    await t.client.request(command('SET', 'dst', 'old', 'EX', '100'));
    await t.client.expectReply(command('COPY', 'src', 'dst'), ':0\r\n', 'the destination exists: nothing happens, reply 0');
    await t.client.expectReply(command('GET', 'dst'), '$3\r\nold\r\n');
    await t.client.expectReply(command('COPY', 'src', 'dst', 'replace'), ':1\r\n', 'REPLACE (any case) overwrites the destination');
    await t.client.expectReply(command('GET', 'dst'), '$3\r\nnew\r\n');
    await t.client.expectReply(command('TTL', 'dst'), ':-1\r\n', "the source has no deadline, so neither has the copy: the destination's old deadline must go");
  });

  it('treats an expired destination as free', async () => {
    await t.client.request(command('SET', 'src', 'v'));
    await t.client.request(command('SET', 'dst', 'old', 'PXAT', '1'));
    await t.client.expectReply(command('COPY', 'src', 'dst'), ':1\r\n', 'a destination past its deadline does not exist');
    await t.client.expectReply(command('TTL', 'dst'), ':-1\r\n');
  });

  it('refuses to copy a key onto itself', async () => {
    await t.client.request(command('SET', 'k', 'v'));
    await t.client.expectReply(command('COPY', 'k', 'k'), '-ERR source and destination objects are the same\r\n');
  });

  it('knows there is only database 0', async () => {
    await t.client.request(command('SET', 'k', 'v'));
    await t.client.expectReply(command('COPY', 'k', 'k2', 'DB', '0'), ':1\r\n', 'DB 0 is this database');
    await t.client.expectReply(command('COPY', 'k', 'k3', 'DB', '1'), '-ERR DB index is out of range\r\n', 'this server has one database, as redis-server --databases 1');
    await t.client.expectReply(command('COPY', 'k', 'k3', 'DB', 'one'), '-ERR value is not an integer or out of range\r\n');
    await t.client.expectReply(command('COPY', 'k', 'k', 'DB', '1'), '-ERR DB index is out of range\r\n', 'options are checked before the same-key rule');
  });

  it('checks its options and arity', async () => {
    await t.client.expectReply(command('COPY', 'k', 'k2', 'BOGUS'), '-ERR syntax error\r\n');
    await t.client.expectReply(command('COPY', 'k', 'k2', 'DB'), '-ERR syntax error\r\n', 'DB needs an index after it');
    await t.client.expectReply(command('COPY', 'k'), "-ERR wrong number of arguments for 'copy' command\r\n", 'COPY takes at least a source and a destination: arity -3');
  });
});
