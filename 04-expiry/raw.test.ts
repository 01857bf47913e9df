// Step 04 as nc sees it: inline commands typed by hand and their exact reply bytes, plus
// the RESP conformance every step keeps.
import { describe, it } from 'vitest';
import { useServer } from '../test/helpers/fixtures.ts';
import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';
import { command } from '../test/helpers/raw-client.ts';
import { startStep } from '../test/helpers/servers.ts';

describeProtocolConformance('04-expiry');

describe('04-expiry: expiry commands typed into nc', () => {
  const t = useServer(() => startStep('04-expiry'));

  it('sets a key with EX and reads its TTL back', async () => {
    await t.client.expectReply('SET session "abc 123" EX 100\r\nTTL session\r\n', '+OK\r\n:100\r\n');
    await t.client.expectReply('GET session\r\n', '$7\r\nabc 123\r\n');
  });

  it('answers -1 for a key without deadline and -2 for a missing key', async () => {
    await t.client.expectReply('SET forever v\r\nTTL forever\r\nTTL nothing\r\n', '+OK\r\n:-1\r\n:-2\r\n', '-1: the key lives forever; -2: there is no such key');
  });

  it('sets, reads and removes a deadline', async () => {
    await t.client.expectReply('EXPIREAT forever 4102444800\r\nEXPIRETIME forever\r\n', ':1\r\n:4102444800\r\n');
    await t.client.expectReply('PERSIST forever\r\nTTL forever\r\nPERSIST forever\r\n', ':1\r\n:-1\r\n:0\r\n');
  });

  it('deletes a key whose new deadline is already past', async () => {
    await t.client.expectReply('SET doomed v\r\nEXPIRE doomed -1\r\nEXISTS doomed\r\n', '+OK\r\n:1\r\n:0\r\n');
  });

  it('words expire-time errors as Redis does, naming the command', async () => {
    await t.client.expectReply('SET k v EX 0\r\n', "-ERR invalid expire time in 'set' command\r\n");
    await t.client.expectReply('SETEX k -1 v\r\n', "-ERR invalid expire time in 'setex' command\r\n");
    await t.client.expectReply('PSETEX k 0 v\r\n', "-ERR invalid expire time in 'psetex' command\r\n");
    await t.client.expectReply('SET k v EX ten\r\n', '-ERR value is not an integer or out of range\r\n', 'a time that is not a number is not an integer');
    await t.client.expectReply('SET k v EX 10 PX 10\r\n', '-ERR syntax error\r\n', 'only one of EX, PX, EXAT, PXAT, KEEPTTL');
    await t.client.expectReply('EXPIRE k 10 NX XX\r\n', '-ERR NX and XX, GT or LT options at the same time are not compatible\r\n');
    await t.client.expectReply('EXPIRE k 10 GT LT\r\n', '-ERR GT and LT options at the same time are not compatible\r\n');
    await t.client.expectReply('EXPIRE k 10 SOON\r\n', '-ERR Unsupported option SOON\r\n');
  });

  it('answers the expiry commands with RESP3 integers after HELLO 3 too', async () => {
    const resp3 = await t.connect();
    await resp3.request(command('HELLO', '3'));
    await resp3.expectReply(command('SET', 'r3', 'v', 'PXAT', '4102444800123'), '+OK\r\n');
    await resp3.expectReply(command('PEXPIRETIME', 'r3'), ':4102444800123\r\n');
    await resp3.expectReply(command('GETEX', 'missing', 'PERSIST'), '_\r\n', 'a missing key is a RESP3 null');
  });
});
