// Exercise 1: SETRANGE key offset value, GETRANGE's writing twin.
// Run: make check STEP=03 EX=1   (TARGET=redis make check STEP=03 EX=1 shows real Redis)
import { describe, it } from 'vitest';
import { command } from '../../test/helpers/raw-client.ts';
import { useServer } from '../../test/helpers/fixtures.ts';
import { startExerciseServer } from '../../test/helpers/servers.ts';

describe('exercise 1: SETRANGE', () => {
  const t = useServer(() => startExerciseServer(import.meta.url));

  it('overwrites part of a value and answers the new length', async () => {
    await t.client.expectReply(command('SET', 'greeting', 'Hello World'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'greeting', '6', 'Redis'), ':11\r\n', 'SETRANGE answers the length of the value after the write');
    await t.client.expectReply(command('GET', 'greeting'), '$11\r\nHello Redis\r\n', 'bytes from the offset on are replaced, the rest stays');
    await t.client.expectReply(command('SETRANGE', 'greeting', '9', 'Redis!'), ':15\r\n', 'a patch that runs past the end makes the value longer');
    await t.client.expectReply(command('GET', 'greeting'), '$15\r\nHello RedRedis!\r\n');
  });

  it('creates a missing key, padding with zero bytes up to the offset', async () => {
    await t.client.expectReply(command('SETRANGE', 'padded', '3', 'ab'), ':5\r\n', 'a missing key counts as an empty string');
    await t.client.expectReply(command('GET', 'padded'), '$5\r\n\x00\x00\x00ab\r\n', 'the gap is filled with zero bytes "\\x00", not spaces');
    await t.client.expectReply(command('SETRANGE', 'padded', '7', 'z'), ':8\r\n');
    await t.client.expectReply(command('GET', 'padded'), '$8\r\n\x00\x00\x00ab\x00\x00z\r\n', 'padding also fills a gap after an existing value');
  });

  it('is binary-safe', async () => {
    await t.client.expectReply(command('SET', 'bin', '\xff\xfe\xfd'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'bin', '1', '\x00\r\n'), ':4\r\n');
    await t.client.expectReply(command('GET', 'bin'), '$4\r\n\xff\x00\r\n\r\n', 'keep values as latin1 strings: every byte round-trips');
  });

  it('with an empty value, changes nothing and creates nothing', async () => {
    await t.client.expectReply(command('SETRANGE', 'nothing', '5', ''), ':0\r\n', 'an empty patch on a missing key answers 0');
    await t.client.expectReply(command('EXISTS', 'nothing'), ':0\r\n', 'an empty patch must not create the key');
    await t.client.expectReply(command('SET', 'short', 'abc'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'short', '10', ''), ':3\r\n', 'an empty patch answers the current length and does not pad');
    await t.client.expectReply(command('SETRANGE', 'short', '536870912', ''), ':3\r\n', 'with nothing to write, even a huge offset is fine');
    await t.client.expectReply(command('GET', 'short'), '$3\r\nabc\r\n');
  });

  it('refuses bad offsets with Redis\'s errors', async () => {
    await t.client.expectReply(command('SETRANGE', 'k', '-1', 'x'), '-ERR offset is out of range\r\n', 'a negative offset is refused before anything else');
    await t.client.expectReply(command('SETRANGE', 'k', 'one', 'x'), '-ERR value is not an integer or out of range\r\n', 'the offset is parsed strictly, like INCRBY\'s argument');
    await t.client.expectReply(command('SETRANGE', 'k', '99999999999999999999', 'x'), '-ERR value is not an integer or out of range\r\n', 'more than 64 bits');
    await t.client.expectReply(
      command('SETRANGE', 'k', '536870911', 'xy'),
      '-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n',
      'offset + length of the patch may not exceed 512 MB (536870912 bytes): check before allocating anything',
    );
    await t.client.expectReply(command('SETRANGE', 'k', '9223372036854775807', 'x'), '-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n');
    await t.client.expectReply(command('EXISTS', 'k'), ':0\r\n', 'a refused SETRANGE creates nothing');
  });

  it('is in the command table, with its arity', async () => {
    await t.client.expectReply(command('SETRANGE', 'k', '1'), "-ERR wrong number of arguments for 'setrange' command\r\n", 'SETRANGE takes exactly key, offset and value: arity 4');
    await t.client.expectReply(command('setrange', 'k', '0', 'v', 'extra'), "-ERR wrong number of arguments for 'setrange' command\r\n");
  });
});
