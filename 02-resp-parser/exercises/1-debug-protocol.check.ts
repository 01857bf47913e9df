// Exercise 1: DEBUG PROTOCOL <type>, one reply of every RESP type, in RESP2 and in RESP3.
// Run: make check STEP=02 EX=1   (TARGET=redis make check STEP=02 EX=1 shows real Redis)
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RawClient, command } from '../../test/helpers/raw-client.ts';
import { startRealRedis } from '../../test/helpers/real-redis.ts';
import { TARGET, startExerciseServer, type TestServer } from '../../test/helpers/servers.ts';

/** What DEBUG PROTOCOL answers, type by type: [type, RESP2 bytes, RESP3 bytes]. */
const REPLIES: Array<[string, string, string]> = [
  ['string', '$11\r\nHello World\r\n', '$11\r\nHello World\r\n'],
  ['integer', ':12345\r\n', ':12345\r\n'],
  ['double', '$5\r\n3.141\r\n', ',3.141\r\n'],
  ['bignum', '$37\r\n1234567999999999999999999999999999999\r\n', '(1234567999999999999999999999999999999\r\n'],
  ['null', '$-1\r\n', '_\r\n'],
  ['array', '*3\r\n:0\r\n:1\r\n:2\r\n', '*3\r\n:0\r\n:1\r\n:2\r\n'],
  ['set', '*3\r\n:0\r\n:1\r\n:2\r\n', '~3\r\n:0\r\n:1\r\n:2\r\n'],
  ['map', '*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n', '%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n'],
  ['verbatim', '$25\r\nThis is a verbatim\nstring\r\n', '=29\r\ntxt:This is a verbatim\nstring\r\n'],
  ['true', ':1\r\n', '#t\r\n'],
  ['false', ':0\r\n', '#f\r\n'],
];

const HINTS: Record<string, string> = {
  double: 'a double is a bulk string in RESP2 and ",3.141" in RESP3: resp.ts has double() already',
  bignum: 'RESP3 has a type for integers too big for 64 bits: "(" then the digits. RESP2 sends the digits as a bulk string. resp.ts does not know this type yet',
  null: 'RESP2 has no null type: Redis answers this one with the null bulk string "$-1"',
  set: 'a set is "~" in RESP3 and a plain array in RESP2',
  map: 'the map is {0: false, 1: true, 2: false}; in RESP2 it is flattened to an array, and the booleans become :0 and :1',
  verbatim: 'a verbatim string carries a three-letter format ("txt:") in RESP3, counted in its length',
};

describe('exercise 1: DEBUG PROTOCOL', () => {
  let server: TestServer;
  const clients: RawClient[] = [];
  beforeAll(async () => {
    if (TARGET === 'redis') {
      // Real Redis refuses DEBUG unless it was started allowing it.
      const redis = await startRealRedis(['--enable-debug-command', 'local']);
      server = { port: redis.port, target: 'redis', close: () => redis.stop() };
    } else {
      server = await startExerciseServer(import.meta.url);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });
  const connect = async (protocol: 2 | 3) => {
    const client = await RawClient.connect(server.port);
    clients.push(client);
    if (protocol === 3) await client.request(command('HELLO', '3'));
    return client;
  };
  const hint = (type: string, protocol: 2 | 3) => `${HINTS[type] ?? `DEBUG PROTOCOL ${type}`} (this connection speaks RESP${protocol})`;

  it('answers every type in RESP2', async () => {
    const client = await connect(2);
    for (const [type, resp2] of REPLIES) {
      await client.expectReply(command('DEBUG', 'PROTOCOL', type), resp2, hint(type, 2));
    }
  });

  it('answers every type in RESP3, after HELLO 3', async () => {
    const client = await connect(3);
    for (const [type, , resp3] of REPLIES) {
      await client.expectReply(command('DEBUG', 'PROTOCOL', type), resp3, hint(type, 3));
    }
  });

  it('sends a push message before the reply in RESP3, and refuses push in RESP2', async () => {
    const resp3 = await connect(3);
    await resp3.expectReply(
      command('DEBUG', 'PROTOCOL', 'push'),
      '>2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n',
      'two replies: the push ">2" (server-cpu-usage, 42), then the real reply as a bulk string',
    );
    const resp2 = await connect(2);
    await resp2.expectReply(
      command('DEBUG', 'PROTOCOL', 'push'),
      '-ERR RESP2 is not supported by this command\r\n',
      'RESP2 has no push type',
    );
  });

  it('is case-insensitive and words its errors as Redis does', async () => {
    const client = await connect(2);
    await client.expectReply('debug protocol STRING\r\n', '$11\r\nHello World\r\n', 'DEBUG, PROTOCOL and the type name are all case-insensitive');
    await client.expectReply(
      command('DEBUG', 'PROTOCOL', 'nope'),
      '-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n',
    );
    await client.expectReply(
      command('DEBUG', 'PROTOCOL'),
      "-ERR unknown subcommand or wrong number of arguments for 'PROTOCOL'. Try DEBUG HELP.\r\n",
      'the subcommand is quoted as it was sent',
    );
    await client.expectReply(
      command('DEBUG', 'PROTOCOL', 'string', 'extra'),
      "-ERR unknown subcommand or wrong number of arguments for 'PROTOCOL'. Try DEBUG HELP.\r\n",
      'DEBUG PROTOCOL takes exactly one type: an extra argument is the same error',
    );
    await client.expectReply(
      command('DEBUG', 'Nope'),
      "-ERR unknown subcommand or wrong number of arguments for 'Nope'. Try DEBUG HELP.\r\n",
    );
    await client.expectReply(command('DEBUG'), "-ERR wrong number of arguments for 'debug' command\r\n");
  });
});
