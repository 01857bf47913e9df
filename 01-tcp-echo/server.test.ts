// Step 01's tests talk raw TCP, as nc does: bytes go in, the same bytes must come back.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { expectBytes } from '../test/helpers/bytes.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { useServer } from '../test/helpers/fixtures.ts';
import { spawnStep, startStep } from '../test/helpers/servers.ts';

const STEP = '01-tcp-echo';

describe('01-tcp-echo', () => {
  const t = useServer(() => startStep(STEP), { serverPer: 'each' });
  const connect = t.connect;

  it('echoes what a client sends', async () => {
    const client = await connect();
    client.send('hello\n');
    expectBytes('hello\n', await client.readBytes(6), 'hello\n', 'an echo server sends back exactly what it received');
  });

  it('keeps many clients apart: each gets only its own bytes', async () => {
    const many = await Promise.all(Array.from({ length: 25 }, connect));
    const messages = many.map((_, i) => `client ${i} says ${'x'.repeat(i * 7)}\n`);
    many.forEach((c, i) => c.send(messages[i]!));
    const echoes = await Promise.all(many.map((c, i) => c.readBytes(messages[i]!.length)));
    echoes.forEach((echo, i) => expectBytes(messages[i]!, echo, messages[i]!));
    // Nothing from the others arrives later.
    many[0]!.send('end\n');
    expectBytes('end\n', await many[0]!.readBytes(4), 'end\n');
  });

  it('echoes a message split across several writes, in order', async () => {
    const client = await connect();
    for (const piece of ['he', 'l', 'lo', '\n']) {
      client.send(piece);
      expectBytes(piece, await client.readBytes(piece.length), piece);
    }
  });

  it('is binary-safe: \\x00, \\xff and invalid UTF-8 come back unchanged', async () => {
    const client = await connect();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0xc3, 0x28, 0x80, 0x00]);
    client.send(bytes);
    expectBytes(bytes, await client.readBytes(bytes.length), bytes);
  });

  it('half-close: a client that ends its side still gets every echoed byte, then the server closes', async () => {
    const client = await connect();
    client.send('last words\n');
    client.endWriting();
    const rest = await client.readUntilClose();
    expectBytes('last words\n', rest, 'last words\n', "the server should finish echoing, then close on the client's 'end'");
  });

  it('a client that resets its connection does not disturb the others', async () => {
    const calm = await connect();
    const rude = await connect();
    rude.send('half a messa');
    rude.reset();
    await rude.closed;
    calm.send('still here\n');
    expectBytes('still here\n', await calm.readBytes(11), 'still here\n');
    // And the server still accepts new clients.
    const late = await connect();
    late.send('hi\n');
    expectBytes('hi\n', await late.readBytes(3), 'hi\n');
  });

  it('a large payload sent to a slow reader comes back whole and in order', async () => {
    // The client writes 8 MiB, then reads one chunk every few turns of the event loop while
    // the server keeps receiving. The server's writes back up, write() returns false, and
    // the server must stop reading (pause) until 'drain' (resume); a server that never
    // resumes stalls this test, one that never pauses buffers the difference in memory.
    // Either way the echo must be exact, and that is what is asserted (no timing).
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 13)) & 0xff;
    const socket = net.connect({ port: t.server.port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const received: Buffer[] = [];
    let length = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        length += chunk.length;
        if (length >= payload.length) return resolve();
        socket.pause();
        afterTurns(20, () => socket.resume());
      });
    });
    socket.write(payload);
    await done;
    socket.destroy();
    expectBytes(payload, Buffer.concat(received), payload, 'every byte comes back once, in the order it was sent');
  });
});

/** Runs `fn` after `n` turns of the event loop: lets the server run, without a clock. */
function afterTurns(n: number, fn: () => void): void {
  if (n === 0) fn();
  else setImmediate(() => afterTurns(n - 1, fn));
}

describe('01-tcp-echo from the command line', () => {
  const startFails = async (args: string[]) => {
    const error = await spawnStep(STEP, args).then(
      async (child) => {
        await child.kill();
        throw new Error(`the server started with ${args.join(' ')}`);
      },
      (err: Error) => err,
    );
    return error.message;
  };

  it('runs as its own process and echoes', async () => {
    const child = await spawnStep(STEP);
    try {
      const client = await RawClient.connect(child.port);
      client.send('ping\n');
      expectBytes('ping\n', await client.readBytes(5), 'ping\n');
      client.destroy();
    } finally {
      await child.kill();
    }
  });

  it('an unknown flag exits non-zero with a one-line reason', async () => {
    const message = await startFails(['--prot', '6380']);
    expect(message).toMatch(/exited \(2\)/);
    expect(message).toContain("Error: unknown flag '--prot'");
    expect(message.trim().split('\n')).toHaveLength(2); // "exited ..." and the one reason line
  });

  it('a bad --port exits non-zero with a one-line reason', async () => {
    const message = await startFails(['--port', '70000']);
    expect(message).toMatch(/exited \(2\)/);
    expect(message).toContain('Error: bad value for --port: 70000 is out of range (0 to 65535)');
  });
});
