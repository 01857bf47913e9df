// Exercise 3: COPY, and the deadline that is a point in time. Run: make check STEP=04 EX=3
// (TARGET=redis make check STEP=04 EX=3 runs the same check against real Redis; the one
// test that moves the server's clock is skipped there, since real Redis's clock is real.)
//
// The server runs on a FakeClock: time stands still unless the check moves it, and its
// active expiry cycle never runs on its own, so an expired key stays until a command meets it.
import { beforeEach, describe, it } from 'vitest';
import { FakeClock } from '../../lib/clock.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { command } from '../../test/helpers/raw-client.ts';
import { TARGET, startExerciseServer } from '../../test/helpers/servers.ts';

/** 2100-01-01T00:00:00.123Z, in ms: a deadline no test run reaches, not a whole second. */
const PXAT = '4102444800123';

describe('exercise 3: COPY', () => {
  const clock = new FakeClock();
  const t = useServer(() => startExerciseServer(import.meta.url, { clock }));
  beforeEach(async () => {
    await t.client.request(command('FLUSHALL'));
  });

  it('copies a value', async () => {
    await t.client.request(command('SET', 'original', 'v'));
    await t.client.expectReply(command('COPY', 'original', 'copy'), ':1\r\n', 'COPY answers 1 when it copied');
    await t.client.expectReply(command('MGET', 'original', 'copy'), '*2\r\n$1\r\nv\r\n$1\r\nv\r\n', 'both keys hold the value');
    await t.client.expectReply(command('TTL', 'copy'), ':-1\r\n', 'the source has no deadline, so neither has the copy');
  });

  it('copies the deadline: the same point in time', async () => {
    await t.client.request(command('SET', 'session', 'v', 'PXAT', PXAT));
    await t.client.expectReply(command('COPY', 'session', 'backup'), ':1\r\n');
    await t.client.expectReply(
      command('PEXPIRETIME', 'backup'),
      `:${PXAT}\r\n`,
      'the copy must die when the original dies: give it the same absolute deadline (c.db.getDeadline of the source), ' +
        'unchanged (-1: no deadline was copied; -2: the copy is already gone, its deadline is in the past)',
    );
    await t.client.expectReply(command('PEXPIRETIME', 'session'), `:${PXAT}\r\n`, 'the original keeps its deadline');
  });

  it.skipIf(TARGET === 'redis')('gives a copy made 30 s after SET EX 60 the 30 s left (moves the fake clock: skipped under TARGET=redis)', async () => {
    await t.client.request(command('SET', 'token', 'v', 'EX', '60'));
    clock.advance(30_000);
    await t.client.expectReply(command('COPY', 'token', 'copy'), ':1\r\n');
    await t.client.expectReply(command('PTTL', 'copy'), ':30000\r\n', 'the deadline is a point in time: 30 s after SET EX 60, 30 s are left, for the copy too');
    clock.advance(30_001);
    await t.client.expectReply(command('EXISTS', 'token', 'copy'), ':0\r\n', 'the original and its copy die at the same moment');
  });

  it('answers 0 for a missing or expired source', async () => {
    await t.client.expectReply(command('COPY', 'missing', 'x'), ':0\r\n', 'no source, nothing to copy');
    await t.client.request(command('SET', 'dead', 'v', 'PXAT', '1'));
    await t.client.expectReply(command('COPY', 'dead', 'x'), ':0\r\n', 'a key past its deadline does not exist: read the source through the keyspace, which expires it');
    await t.client.expectReply(command('EXISTS', 'x'), ':0\r\n');
  });

  it('leaves an existing destination alone, unless REPLACE', async () => {
    await t.client.request(command('SET', 'src', 'new'));
    await t.client.request(command('SET', 'dst', 'old', 'EX', '100'));
    await t.client.expectReply(command('COPY', 'src', 'dst'), ':0\r\n', 'the destination exists and there is no REPLACE: nothing happens, reply 0');
    await t.client.expectReply(command('GET', 'dst'), '$3\r\nold\r\n', 'without REPLACE the destination keeps its value');
    await t.client.expectReply(command('COPY', 'src', 'dst', 'replace'), ':1\r\n', 'REPLACE (any case) overwrites the destination');
    await t.client.expectReply(command('GET', 'dst'), '$3\r\nnew\r\n');
    await t.client.expectReply(command('TTL', 'dst'), ':-1\r\n', "the source has no deadline, so neither has the copy: the destination's old deadline must go");
  });

  it('treats an expired destination as free', async () => {
    await t.client.request(command('SET', 'src', 'v'));
    await t.client.request(command('SET', 'dst', 'old', 'PXAT', '1'));
    await t.client.expectReply(command('COPY', 'src', 'dst'), ':1\r\n', 'a destination past its deadline does not exist, so no REPLACE is needed');
    await t.client.expectReply(command('GET', 'dst'), '$1\r\nv\r\n');
    await t.client.expectReply(command('TTL', 'dst'), ':-1\r\n');
  });

  it('refuses to copy a key onto itself', async () => {
    await t.client.request(command('SET', 'k', 'v'));
    await t.client.expectReply(command('COPY', 'k', 'k'), '-ERR source and destination objects are the same\r\n');
  });

  it('knows there is only database 0', async () => {
    await t.client.request(command('SET', 'k', 'v'));
    await t.client.expectReply(command('COPY', 'k', 'k2', 'DB', '0'), ':1\r\n', 'DB 0 is this database');
    await t.client.expectReply(
      command('COPY', 'k', 'k3', 'DB', '1'),
      '-ERR DB index is out of range\r\n',
      'this server has one database, as redis-server --databases 1: any other index names a database that does not exist',
    );
    await t.client.expectReply(command('EXISTS', 'k3'), ':0\r\n', 'an error copies nothing');
    await t.client.expectReply(command('COPY', 'k', 'k3', 'DB', 'one'), '-ERR value is not an integer or out of range\r\n');
    await t.client.expectReply(
      command('COPY', 'k', 'k3', 'DB', '4294967296'),
      '-ERR value is out of range, value must between -2147483648 and 2147483647\r\n',
      'Redis reads the index as a C int (32 bits) first, with the error SELECT gives (keys.ts)',
    );
    await t.client.expectReply(command('COPY', 'k', 'k', 'DB', '1'), '-ERR DB index is out of range\r\n', 'options are checked before the same-key rule');
  });

  it('checks its options and arity', async () => {
    await t.client.expectReply(command('COPY', 'k', 'k2', 'BOGUS'), '-ERR syntax error\r\n');
    await t.client.expectReply(command('COPY', 'k', 'k2', 'DB'), '-ERR syntax error\r\n', 'DB needs an index after it');
    await t.client.expectReply(command('COPY', 'k'), "-ERR wrong number of arguments for 'copy' command\r\n", 'COPY takes at least a source and a destination: arity -3');
  });
});
