// The RESP conformance every server from step 02 on must keep: what nc sends (inline and
// multibulk requests, pipelines, frames split at every byte, binary payloads), HELLO's
// protocol switch, QUIT, and the protocol errors that end a connection without touching
// the others. Each step's raw.test.ts runs it against its own server.
import { describe, expect, it } from 'vitest';
import { expectBytes, expectBytesToContain, expectBytesToStartWith } from './bytes.ts';
import { RawClient, command } from './raw-client.ts';
import { useServer } from './fixtures.ts';
import { startStep, type StepName, type StepOptions } from './servers.ts';
import type { DiffCase } from './differential.ts';

/** A malformed request, the exact error Redis 7 answers it with, then it hangs up. */
export interface ProtocolErrorCase {
  name: string;
  send: string;
  error: string;
}

/** 64 KiB, Redis's PROTO_INLINE_MAX_SIZE, plus one: the first size it refuses. */
const OVER_INLINE_LIMIT = 64 * 1024 + 1;

export const PROTOCOL_ERRORS: ProtocolErrorCase[] = [
  { name: 'a multibulk length that is not a number', send: '*x\r\n', error: 'invalid multibulk length' },
  { name: 'a multibulk length with a leading +', send: '*+1\r\n$4\r\nPING\r\n', error: 'invalid multibulk length' },
  { name: 'a multibulk length above INT_MAX', send: '*2147483648\r\n', error: 'invalid multibulk length' },
  { name: 'a bulk length that is not a number', send: '*1\r\n$x\r\n', error: 'invalid bulk length' },
  { name: 'a negative bulk length', send: '*1\r\n$-1\r\n', error: 'invalid bulk length' },
  { name: 'a bulk length above 512 MB', send: '*1\r\n$536870913\r\n', error: 'invalid bulk length' },
  { name: 'a bulk length with a leading zero', send: '*1\r\n$04\r\nPING\r\n', error: 'invalid bulk length' },
  { name: "an argument that does not start with '$'", send: '*1\r\nfoo\r\n', error: "expected '$', got 'f'" },
  { name: "a second argument that does not start with '$'", send: '*2\r\n$4\r\nECHO\r\n:1\r\n', error: "expected '$', got ':'" },
  { name: "a CR where a '$' should be (the error stays one line)", send: '*1\r\n\r\n', error: "expected '$', got ' '" },
  { name: 'an unclosed double quote', send: 'ECHO "abc\r\n', error: 'unbalanced quotes in request' },
  { name: 'an unclosed single quote', send: "ECHO 'abc\r\n", error: 'unbalanced quotes in request' },
  { name: 'a closing quote followed by a letter', send: 'ECHO "abc"def\r\n', error: 'unbalanced quotes in request' },
  { name: 'an inline request over 64 KiB without a newline', send: 'x'.repeat(OVER_INLINE_LIMIT), error: 'too big inline request' },
  { name: 'a multibulk count over 64 KiB without a CR', send: '*' + '1'.repeat(OVER_INLINE_LIMIT - 1), error: 'too big mbulk count string' },
  { name: 'a bulk count over 64 KiB without a CR', send: '*1\r\n$' + '1'.repeat(OVER_INLINE_LIMIT), error: 'too big bulk count string' },
];

const protocolError = (reason: string) => `-ERR Protocol error: ${reason}\r\n`;

/** The same protocol errors as differential cases: Redis's bytes, then the close. */
export const PROTOCOL_ERROR_DIFF_CASES: DiffCase[] = [
  ...PROTOCOL_ERRORS.map((c) => ({ name: `protocol error: ${c.name}`, send: c.send, closes: true })),
  { name: 'protocol error after good commands in the same packet', send: 'PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n', closes: true },
];

/**
 * Framing corners where Redis's rules show: '*' and '$' header lines end at the CR, whose
 * next byte is skipped unread; a bulk's two trailing bytes are skipped unread; inline
 * words end at space, tab, CR or LF, while blanks between words are any isspace() byte.
 */
export const FRAMING_DIFF_CASES: DiffCase[] = [
  { name: 'framing: a multibulk header ended by LF alone', send: '*1\n$4\r\nPING\r\n', closes: true },
  { name: 'framing: a bulk header ended by LF alone', send: '*1\r\n$4\nPING\r\n', closes: true },
  { name: 'framing: the byte after a header CR is skipped unread', send: '*1\rX$4\r\nPING\r\n' },
  { name: 'framing: a header with two CRs', send: '*1\r\n$4\r\r\nPING\r\n' },
  { name: "framing: a bulk's two trailing bytes are skipped unread", send: '*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n', replies: 2 },
  { name: 'framing: a CR inside an inline line separates words', send: 'ECHO\rhi\r\n' },
  { name: 'framing: \\v inside an inline word', send: 'ECHO a\vb\r\n' },
  { name: 'framing: \\v and \\f as blanks before an inline word', send: '\v\fECHO\va\r\n' },
  { name: 'framing: \\f between inline words', send: 'ECHO a\fb c\r\n' },
];

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Sends `bytes` one byte per write, yielding between writes so each arrives on its own. */
export async function sendByteByByte(client: RawClient, bytes: string): Promise<void> {
  for (const byte of bytes) {
    client.send(byte);
    await tick();
  }
}

/**
 * Declares the RESP conformance suite for `step`'s server, started with `serverOptions`
 * (from step 05 on: a temporary --dir, so no test writes files into the repo).
 */
export function describeProtocolConformance<S extends StepName>(step: S, serverOptions?: StepOptions<S>): void {
  describe(`${step}: RESP as nc sends it`, () => {
    const { connect } = useServer(() => startStep(step, serverOptions));

    describe('requests', () => {
      it('answers an inline command typed into nc, with or without the CR', async () => {
        const client = await connect();
        await client.expectReply('PING\r\n', '+PONG\r\n');
        await client.expectReply('PING\n', '+PONG\r\n', 'nc sends a bare \\n: the CR before it is optional');
        await client.expectReply('ping hello\r\n', '$5\r\nhello\r\n', 'command names are case-insensitive');
      });

      it('splits inline arguments like redis-cli quotes them', async () => {
        const client = await connect();
        await client.expectReply('ECHO "hello world"\r\n', '$11\r\nhello world\r\n');
        await client.expectReply("ECHO 'it\\'s'\r\n", "$4\r\nit's\r\n", "in single quotes only \\' is an escape");
        await client.expectReply('  ECHO   spaced  \r\n', '$6\r\nspaced\r\n');
      });

      it('skips empty inline lines and empty multibulks', async () => {
        const client = await connect();
        await client.expectReply('\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n', '+PONG\r\n', 'an empty request gets no reply at all');
      });

      it('answers a multibulk request', async () => {
        const client = await connect();
        await client.expectReply(command('ECHO', 'hi'), '$2\r\nhi\r\n');
      });

      it('answers every pipelined command of one write, in order', async () => {
        const client = await connect();
        const count = 200;
        let sent = '';
        let expected = '';
        for (let i = 0; i < count; i++) {
          const word = `msg-${i}`;
          sent += i % 2 === 0 ? command('ECHO', word) : `ECHO ${word}\r\n`;
          expected += `$${word.length}\r\n${word}\r\n`;
        }
        await client.expectReply(sent, expected);
      });

      it('parses frames that arrive one byte at a time', async () => {
        const client = await connect();
        const bytes = command('ECHO', 'split\r\nme') + 'PING\r\n' + command('PING');
        const replies = client.readReplies(3);
        await sendByteByByte(client, bytes);
        expectBytes(bytes, (await replies).bytes, '$9\r\nsplit\r\nme\r\n+PONG\r\n+PONG\r\n');
      });

      it('is binary-safe: NUL, 0xff and CRLF inside an argument come back unchanged', async () => {
        const client = await connect();
        const payload = 'a\x00b\xff\r\n\x80end';
        await client.expectReply(command('ECHO', payload), `$${payload.length}\r\n${payload}\r\n`);
        await client.expectReply(command('ECHO', ''), '$0\r\n\r\n', 'an empty argument is a bulk of length 0');
      });

      it('understands escapes inside double quotes in inline commands', async () => {
        const client = await connect();
        await client.expectReply('ECHO "a\\x41\\n\\"b"\r\n', '$5\r\naA\n"b\r\n');
      });
    });

    describe('HELLO switches the encoding of one connection', () => {
      /** Sends HELLO with `args`; the reply must start with `start` and hold the proto field. */
      const expectHello = async (client: RawClient, args: string[], start: string, proto?: string, hint?: string) => {
        const sent = command('HELLO', ...args);
        const reply = (await client.request(sent)).toString('latin1');
        expectBytesToStartWith(sent, reply, start, hint);
        if (proto !== undefined) expectBytesToContain(sent, reply, `$5\r\nproto\r\n:${proto}\r\n`, `the field "proto" holds the protocol now spoken, ${proto}`);
      };

      it('answers HELLO 3 with a RESP3 map, and HELLO 2 with a flat array', async () => {
        const client = await connect();
        await expectHello(client, ['3'], '%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n', '3', 'in RESP3, HELLO answers a map (%) of 7 fields, "server" first');
        await expectHello(client, ['2'], '*14\r\n$6\r\nserver\r\n', '2', 'in RESP2, the same 7 fields as a flat array of 14');
      });

      it('keeps each connection on its own protocol', async () => {
        const resp3 = await connect();
        const resp2 = await connect();
        await resp3.request(command('HELLO', '3'));
        await expectHello(resp3, [], '%7\r\n', undefined, 'this connection switched to RESP3: its replies stay maps');
        await expectHello(resp2, [], '*14\r\n', undefined, 'another connection switched, not this one: RESP2 still');
      });

      it('refuses protocol versions it does not speak', async () => {
        const client = await connect();
        await client.expectReply(command('HELLO', '4'), '-NOPROTO unsupported protocol version\r\n');
        await client.expectReply(command('HELLO', 'x'), '-ERR Protocol version is not an integer or out of range\r\n');
        await client.expectReply(command('PING'), '+PONG\r\n', 'a refused HELLO leaves the connection usable');
      });
    });

    describe('QUIT', () => {
      it('replies +OK, then closes, ignoring what was pipelined after it', async () => {
        const client = await connect();
        client.send('QUIT\r\nPING\r\n');
        expectBytes('QUIT\r\nPING\r\n', await client.readUntilClose(), '+OK\r\n');
      });
    });

    describe('protocol errors: Redis\'s words, then the connection closes, and nobody else notices', () => {
      for (const c of PROTOCOL_ERRORS) {
        it(c.name, async () => {
          const bystander = await connect();
          const offender = await connect();
          offender.send(c.send);
          expectBytes(c.send, await offender.readUntilClose(), protocolError(c.error), 'reply with the error, then close');
          await bystander.expectReply('PING\r\n', '+PONG\r\n', 'another client must keep working');
        });
      }

      it('answers the commands before the bad frame first', async () => {
        const client = await connect();
        const sent = 'PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n';
        client.send(sent);
        expectBytes(sent, await client.readUntilClose(), '+PONG\r\n+PONG\r\n' + protocolError('invalid multibulk length'));
      });

      it("waits for a header line's CR before judging it", async () => {
        const offender = await connect();
        const bystander = await connect();
        offender.send('*1\r\nx');
        await bystander.expectReply('PING\r\n', '+PONG\r\n');
        expectBytes('*1\r\nx', offender.takeAll(), '', 'no reply yet: the line "x" has no CR, so the server cannot judge it');
        expect(offender.isClosed, 'the connection must stay open while the header line is unfinished').toBe(false);
        offender.send('y\r\n');
        expectBytes('*1\r\nxy\r\n', await offender.readUntilClose(), protocolError("expected '$', got 'x'"));
      });

      it('detects a bad frame that arrives one byte at a time', async () => {
        const client = await connect();
        const sent = '*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n';
        await sendByteByByte(client, sent);
        expectBytes(sent, await client.readUntilClose(), '+PONG\r\n' + protocolError('invalid bulk length'));
      });
    });
  });
}
