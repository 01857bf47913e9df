// Exercise 2: CLIENT REPLY ON|OFF|SKIP, fire-and-forget commands.
// Run: make check STEP=02 EX=2   (TARGET=redis make check STEP=02 EX=2 shows real Redis)
import { describe, it } from 'vitest';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 2: CLIENT REPLY', () => {
  const { connect } = useServer(() => startExerciseServer(import.meta.url));

  it('CLIENT REPLY ON answers +OK', async () => {
    const client = await connect();
    await client.expectReply('CLIENT REPLY ON\r\n', '+OK\r\n', 'CLIENT is a new command with one subcommand, REPLY');
    await client.expectReply('client reply on\r\n', '+OK\r\n', 'the command, the subcommand and the mode are case-insensitive');
  });

  it('CLIENT REPLY SKIP drops the reply of the next command only', async () => {
    const client = await connect();
    await client.expectReply(
      'CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n',
      '$1\r\nb\r\n',
      'SKIP itself gets no reply, PING a is skipped, PING b is answered',
    );
  });

  it('skips whatever the next reply is, an error too', async () => {
    const client = await connect();
    await client.expectReply('CLIENT REPLY SKIP\r\nNOSUCH\r\nPING c\r\n', '$1\r\nc\r\n', 'the unknown-command error is skipped like any reply');
  });

  it('remembers SKIP across reads', async () => {
    const client = await connect();
    client.send('CLIENT REPLY SKIP\r\n');
    client.send('PING a\r\n');
    await client.expectReply('PING b\r\n', '$1\r\nb\r\n', 'the mode belongs to the connection, not to one batch of bytes');
  });

  it('CLIENT REPLY OFF drops every reply until CLIENT REPLY ON', async () => {
    const client = await connect();
    await client.expectReply(
      'CLIENT REPLY OFF\r\nPING x\r\nECHO y\r\nNOSUCH\r\nCLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING z\r\n',
      '+OK\r\n$1\r\nz\r\n',
      'nothing at all comes back while OFF; ON answers +OK (and also forgets a SKIP given while OFF)',
    );
  });

  it('SKIP followed by ON: ON still answers', async () => {
    const client = await connect();
    await client.expectReply('CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n', '+OK\r\n+PONG\r\n', 'ON cancels a pending SKIP and replies +OK');
  });

  it('is per connection', async () => {
    const quiet = await connect();
    const other = await connect();
    quiet.send('CLIENT REPLY OFF\r\n');
    await other.expectReply('PING\r\n', '+PONG\r\n', 'another connection is not silenced');
    await quiet.expectReply('CLIENT REPLY ON\r\nPING\r\n', '+OK\r\n+PONG\r\n');
  });

  it('words its errors as Redis does', async () => {
    const client = await connect();
    await client.expectReply('CLIENT REPLY maybe\r\n', '-ERR syntax error\r\n', 'only ON, OFF and SKIP are modes');
    await client.expectReply(
      'CLIENT REPLY\r\n',
      "-ERR wrong number of arguments for 'client|reply' command\r\n",
      'a subcommand\'s arity error names it as "container|subcommand"',
    );
    await client.expectReply('CLIENT REPLY ON now\r\n', "-ERR wrong number of arguments for 'client|reply' command\r\n");
    await client.expectReply('CLIENT\r\n', "-ERR wrong number of arguments for 'client' command\r\n");
    await client.expectReply('CLIENT NOPE\r\n', "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n", 'the subcommand is quoted as sent');
  });
});
