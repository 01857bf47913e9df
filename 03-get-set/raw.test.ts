import { describe, it } from 'vitest';
import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';
import { command } from '../test/helpers/raw-client.ts';
import { useServer } from '../test/helpers/fixtures.ts';
import { TARGET, startStep } from '../test/helpers/servers.ts';

describeProtocolConformance('03-get-set');

describe('03-get-set: keys and values as raw bytes', () => {
  const t = useServer(() => startStep('03-get-set'));

  it('stores binary keys and values byte for byte', async () => {
    const key = 'k\x00\xff\r\n';
    const value = '\x00\x01\r\n\xfe\xff' + 'é'.repeat(3);
    await t.client.expectReply(command('SET', key, value), '+OK\r\n');
    await t.client.expectReply(command('GET', key), `$${value.length}\r\n${value}\r\n`);
    await t.client.expectReply(command('STRLEN', key), `:${value.length}\r\n`, 'lengths count bytes, not characters');
    await t.client.expectReply(command('GET', 'k'), '$-1\r\n', 'a key with a NUL in it is not the key before the NUL');
  });

  it('sets and gets from an inline command typed into nc', async () => {
    await t.client.expectReply('SET greeting "hello world"\r\nGET greeting\r\n', '+OK\r\n$11\r\nhello world\r\n');
  });

  it('sends a missing value as $-1 in RESP2 and _ in RESP3, per connection', async () => {
    const resp3 = await t.connect();
    try {
      await resp3.request(command('HELLO', '3'));
      await resp3.expectReply(command('GET', 'missing'), '_\r\n');
      await t.client.expectReply(command('GET', 'missing'), '$-1\r\n', 'this connection never sent HELLO 3');
      await resp3.expectReply(command('MGET', 'missing', 'greeting'), '*2\r\n_\r\n$11\r\nhello world\r\n');
      await resp3.request(command('HELLO', '2'));
      await resp3.expectReply(command('GET', 'missing'), '$-1\r\n', 'HELLO 2 switches back');
    } finally {
      resp3.destroy();
    }
  });
});

// Redis 7.2 added CLIENT SETINFO, which ioredis and node-redis send at connect time; the
// Redis 7.0 of the differential tests does not know it, so these replies are 7.2's (and
// TARGET=redis, which runs 7.0, skips them).
describe.skipIf(TARGET === 'redis')('03-get-set: CLIENT SETINFO, as Redis 7.2 answers it', () => {
  const t = useServer(() => startStep('03-get-set'));

  it('accepts LIB-NAME and LIB-VER in any case', async () => {
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis'), '+OK\r\n');
    await t.client.expectReply(command('client', 'setinfo', 'lib-ver', '6.0.0'), '+OK\r\n');
  });

  it('refuses other attributes, naming them as sent', async () => {
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'Lib-Colour', 'red'), "-ERR Unrecognized option 'Lib-Colour'\r\n");
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'a\r\nb', 'red'), "-ERR Unrecognized option 'a  b'\r\n", 'an error reply is one line');
  });

  it('refuses values with spaces or special characters', async () => {
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'LIB-NAME', 'my lib'), '-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n');
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'lib-ver', '1\n2'), '-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n');
  });

  it('checks its arity like any subcommand', async () => {
    await t.client.expectReply(command('CLIENT', 'SETINFO', 'LIB-NAME'), "-ERR wrong number of arguments for 'client|setinfo' command\r\n");
  });
});
