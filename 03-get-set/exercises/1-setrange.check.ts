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
    await t.client.expectReply(command('SETRANGE', 'nothing', '5', ''), ':0\r\n', 'an empty value on a missing key answers 0: there is nothing to write, so nothing to pad either');
    await t.client.expectReply(command('EXISTS', 'nothing'), ':0\r\n', 'an empty value must not create the key');
    await t.client.expectReply(command('SET', 'short', 'abc'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'short', '10', ''), ':3\r\n', 'an empty value answers the current length and does not pad');
    await t.client.expectReply(command('GET', 'short'), '$3\r\nabc\r\n');
  });

  it('with an empty value, ignores the size limit: nothing grows', async () => {
    const hint = 'an empty value never grows the string, so the 512 MB limit cannot apply: answer an empty value before checking the size';
    await t.client.expectReply(command('SETRANGE', 'nothing', '600000000', ''), ':0\r\n', hint);
    await t.client.expectReply(command('SET', 'short', 'abc'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'short', '600000000', ''), ':3\r\n', hint);
    await t.client.expectReply(command('SETRANGE', 'short', '9223372036854775807', ''), ':3\r\n', hint);
  });

  it('refuses a negative offset: it does not count from the end, as GETRANGE\'s does', async () => {
    await t.client.expectReply(command('SET', 'neg', 'abc'), '+OK\r\n');
    await t.client.expectReply(command('SETRANGE', 'neg', '-1', 'x'), '-ERR offset is out of range\r\n', 'SETRANGE has no "from the end": a negative offset is an error');
    await t.client.expectReply(command('GET', 'neg'), '$3\r\nabc\r\n', 'a refused SETRANGE changes nothing');
    await t.client.expectReply(command('SETRANGE', 'neg', '-1', ''), '-ERR offset is out of range\r\n', 'the offset is checked first, even when the value is empty');
    await t.client.expectReply(command('SETRANGE', 'k', '-1', 'x'), '-ERR offset is out of range\r\n');
  });

  it('parses the offset strictly, as a 64-bit integer', async () => {
    const hint = 'parse the offset as GETRANGE parses its offsets (parseInt64): digits only, no sign but "-", no leading zero, 64 bits at most';
    await t.client.expectReply(command('SETRANGE', 'k', 'one', 'x'), '-ERR value is not an integer or out of range\r\n', hint);
    await t.client.expectReply(command('SETRANGE', 'k', '+1', 'x'), '-ERR value is not an integer or out of range\r\n', hint);
    await t.client.expectReply(command('SETRANGE', 'k', '1.0', 'x'), '-ERR value is not an integer or out of range\r\n', hint);
    await t.client.expectReply(command('SETRANGE', 'k', '99999999999999999999', 'x'), '-ERR value is not an integer or out of range\r\n', 'more than 64 bits');
    await t.client.expectReply(command('EXISTS', 'k'), ':0\r\n', 'a refused SETRANGE creates nothing');
  });

  it('refuses a value that would pass 512 MB, before allocating it', async () => {
    const hint = 'offset + length of the value may not exceed 512 MB (536870912 bytes): compare as bigints, before building any string';
    await t.client.expectReply(command('SETRANGE', 'k', '536870911', 'xy'), '-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n', hint);
    await t.client.expectReply(command('SETRANGE', 'k', '9223372036854775807', 'x'), '-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n', hint);
    await t.client.expectReply(command('EXISTS', 'k'), ':0\r\n', 'a refused SETRANGE creates nothing');
  });

  it('is in the command table, with its arity', async () => {
    await t.client.expectReply(command('SETRANGE', 'k', '1'), "-ERR wrong number of arguments for 'setrange' command\r\n", 'SETRANGE takes exactly key, offset and value: arity 4');
    await t.client.expectReply(command('setrange', 'k', '0', 'v', 'extra'), "-ERR wrong number of arguments for 'setrange' command\r\n");
  });
});
