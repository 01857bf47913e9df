// The connection loop's seams for replication (step 08) and for commands that answer later,
// tested with real sockets against a loop with a tiny command table of its own: a command
// that answers nothing, one that blocks, one that wakes a blocked client; a socket the
// server opened itself adopted as a client, as a replica adopts its link to its master;
// output held back, and bytes encoded elsewhere. The steps' tests cover the rest of the loop.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteQueue, Connection } from './connection.ts';
import { createLogger } from './log.ts';
import { BLOCKED, NO_REPLY, Networking, type Answer } from './networking.ts';
import { OK, bulk, simple } from './resp.ts';
import { encode, encodeCommand } from './resp-reply.ts';
import { RawClient, command } from '../test/helpers/raw-client.ts';

class TestClient extends Connection {
  inMulti = false;
}

interface Loop {
  net: Networking<TestClient>;
  port: number;
  /** Every request run, in order, as "client-id:NAME". */
  ran: string[];
  /** What the master clients' requests were, as handed on: one entry per hand-over. */
  handedOn: string[];
  /** Clients blocked by BLOCKME, by id. */
  blocked: Map<number, TestClient>;
}

const loops: Array<Networking<TestClient>> = [];
const peers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(loops.splice(0).map((n) => n.close()));
  for (const peer of peers.splice(0)) peer.close();
});

/**
 * PING, ECHO; SILENT answers nothing; BLOCKME blocks; WAKE <id> <text> unblocks client <id>
 * with <text>; MULTI/EXEC only mark the client, for the master stream's transactions.
 */
async function startLoop(limit: { hardBytes: number } | null = null): Promise<Loop> {
  const ran: string[] = [];
  const handedOn: string[] = [];
  const blocked = new Map<number, TestClient>();
  const run = (c: TestClient, args: string[]): Answer => {
    ran.push(`${c.id}:${args[0]}`);
    switch (args[0]!.toUpperCase()) {
      case 'PING': return simple('PONG');
      case 'ECHO': return bulk(args[1]!);
      case 'SILENT': return NO_REPLY;
      case 'BLOCKME': blocked.set(c.id, c); return BLOCKED;
      case 'WAKE': loop.unblock(blocked.get(Number(args[1]))!, bulk(args[2]!)); return OK;
      case 'MULTI': c.inMulti = true; return OK;
      case 'EXEC': c.inMulti = false; return OK;
      default: return { type: 'error', message: `ERR unknown command '${args[0]}'` };
    }
  };
  const loop: Networking<TestClient> = new Networking<TestClient>({
    processCommand: run,
    createClient: (id, socket) => new TestClient(id, socket),
    outputBufferLimit: () => (limit === null ? null : { ...limit, softBytes: 0, softSeconds: 0 }),
    masterBytesApplied: (_client, bytes) => handedOn.push(bytes.toString('latin1')),
    insideTransaction: (client) => client.inMulti,
  }, createLogger('nothing'));
  loops.push(loop);
  const listener = await loop.listen(['127.0.0.1'], 0);
  return { net: loop, port: listener.port, ran, handedOn, blocked };
}

/** The only client the loop has (the test's own connection). */
function onlyClient(loop: Loop): TestClient {
  expect(loop.net.clients.size).toBe(1);
  return [...loop.net.clients][0]!;
}

/** A peer the loop's server connects out to, as a replica to its master: both ends. */
async function connectOut(): Promise<{ ours: net.Socket; theirs: PeerEnd }> {
  const peer = net.createServer();
  peers.push(peer);
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => peer.once('connection', resolve));
  const ours = net.connect((peer.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => ours.once('connect', resolve));
  return { ours, theirs: new PeerEnd(await accepted) };
}

/** Resolves after the loop's end-of-turn work (beforeSleep, the writes) has run. */
const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** The far end of an adopted socket: what it receives, collected. */
class PeerEnd {
  received = Buffer.alloc(0);
  private waiter: (() => void) | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.waiter?.();
    });
  }

  async readBytes(n: number): Promise<string> {
    while (this.received.length < n) await new Promise<void>((resolve) => (this.waiter = resolve));
    const text = this.received.subarray(0, n).toString('latin1');
    this.received = this.received.subarray(n);
    return text;
  }
}

describe('answers: now, nothing, or later', () => {
  it('writes nothing for a command that answers nothing, and goes on with the next', async () => {
    const loop = await startLoop();
    const client = await RawClient.connect(loop.port);
    expect((await client.request(command('SILENT') + command('PING'))).toString()).toBe('+PONG\r\n');
    client.destroy();
  });

  it('holds a blocked client\'s next requests until it is answered, then runs them in order', async () => {
    const loop = await startLoop();
    const sleeper = await RawClient.connect(loop.port);
    const waker = await RawClient.connect(loop.port);
    // One read: the blocking command and two more behind it.
    sleeper.send(command('BLOCKME') + command('ECHO', 'after') + command('PING'));
    await waker.expectReply(command('PING'), '+PONG\r\n'); // others are served meanwhile
    expect(loop.ran.filter((r) => r.endsWith(':ECHO'))).toEqual([]);
    const id = [...loop.blocked.keys()][0]!;
    await waker.expectReply(command('WAKE', String(id), 'woken'), '+OK\r\n');
    const { bytes } = await sleeper.readReplies(3);
    expect(bytes.toString()).toBe('$5\r\nwoken\r\n$5\r\nafter\r\n+PONG\r\n');
    sleeper.destroy();
    waker.destroy();
  });

  it('runs the woken client\'s requests after the command that woke it, never inside it', async () => {
    const loop = await startLoop();
    const sleeper = await RawClient.connect(loop.port);
    sleeper.send(command('BLOCKME') + command('PING'));
    while (loop.blocked.size === 0) await turnEnd();
    const waker = await RawClient.connect(loop.port);
    const id = [...loop.blocked.keys()][0]!;
    // WAKE and a PING in one read: the waker's PING runs before the sleeper's.
    waker.send(command('WAKE', String(id), 'x') + command('PING'));
    await waker.readReplies(2);
    await sleeper.readReplies(2);
    const order = loop.ran.slice(loop.ran.indexOf(`${id}:BLOCKME`) + 1);
    expect(order.map((r) => r.split(':')[1])).toEqual(['WAKE', 'PING', 'PING']);
    expect(order[2]).toBe(`${id}:PING`);
    sleeper.destroy();
    waker.destroy();
  });

  it('stops reading a blocked client\'s socket, so what it sends cannot pile up in the server', async () => {
    const loop = await startLoop();
    const sleeper = await RawClient.connect(loop.port);
    sleeper.send(command('BLOCKME'));
    while (loop.blocked.size === 0) await turnEnd();
    const socket = (sleeper as unknown as { socket: net.Socket }).socket;
    const chunk = Buffer.from(command('PING').repeat(4096), 'latin1'); // 57 KB of requests
    let sent = 0;
    // Keep sending until the kernel's buffers on both sides are full and ours holds the rest.
    while (socket.writableLength < 4 * chunk.length) {
      if (sent > 64 * 1024 * 1024) throw new Error(`sent ${sent} bytes and the server still reads them`);
      socket.write(chunk);
      sent += chunk.length;
      await turnEnd();
    }
    const client = onlyClient(loop);
    expect(client.parser.bufferedBytes).toBeLessThan(sent / 2);
    loop.net.unblock(client, OK);
    // Woken, it reads and answers every PING it sent.
    const pings = sent / command('PING').length;
    const replies = await sleeper.readBytes('+OK\r\n'.length + pings * '+PONG\r\n'.length, 20_000);
    expect(replies.toString('latin1')).toBe('+OK\r\n' + '+PONG\r\n'.repeat(pings));
    sleeper.destroy();
  });

  it('lets a client that closes while blocked go, and nothing is left waiting for it', async () => {
    const loop = await startLoop();
    const sleeper = await RawClient.connect(loop.port);
    sleeper.send(command('BLOCKME') + command('PING'));
    while (loop.blocked.size === 0) await turnEnd();
    sleeper.destroy();
    while (loop.net.clients.size > 0) await turnEnd();
    const client = [...loop.blocked.values()][0]!;
    loop.net.unblock(client, OK); // a late answer to a gone client is dropped
    await turnEnd();
    expect(loop.ran.filter((r) => r.endsWith(':PING'))).toEqual([]);
  });
});

describe('a socket the server opened, adopted as a client', () => {
  it('is served like an accepted one, as a normal client', async () => {
    const loop = await startLoop();
    const { ours, theirs } = await connectOut();
    const client = loop.net.adopt(ours, 'normal');
    expect(client.kind).toBe('normal');
    expect(loop.net.clients.has(client)).toBe(true);
    expect(loop.net.connectionsReceived).toBe(0); // not accepted: opened by the server
    theirs.socket.write(command('PING'));
    expect(await theirs.readBytes(7)).toBe('+PONG\r\n');
    theirs.socket.destroy();
    while (loop.net.clients.size > 0) await turnEnd();
  });

  it('as the master link: runs its requests, answers nothing, and hands on each request\'s exact bytes', async () => {
    const loop = await startLoop();
    const { ours, theirs } = await connectOut();
    const first = command('ECHO', 'a');
    // Bytes that arrived with the end of a handshake are the start of the stream.
    const client = loop.net.adopt(ours, 'master', Buffer.from(first, 'latin1'));
    expect(client.kind).toBe('master');
    const rest = [command('PING'), '\r\n', command('ECHO', 'x\r\ny'), 'PING\r\n', command('SILENT')];
    const stream = Buffer.from(rest.join(''), 'latin1');
    // Split at every few bytes: requests straddle reads.
    for (let at = 0; at < stream.length; at += 5) {
      await new Promise((resolve) => theirs.socket.write(stream.subarray(at, at + 5), resolve));
      await turnEnd();
    }
    while (loop.ran.length < 5) await turnEnd();
    // An empty line between requests belongs to the next one: every byte is counted once.
    expect(loop.handedOn).toEqual([first, command('PING'), '\r\n' + command('ECHO', 'x\r\ny'), 'PING\r\n', command('SILENT')]);
    // No reply ever went to the master, but bytes sent on purpose do (a replica's ACK).
    loop.net.sendTo(client, encodeCommand(['REPLCONF', 'ACK', '42']));
    expect(await theirs.readBytes(encodeCommand(['REPLCONF', 'ACK', '42']).length)).toBe(command('REPLCONF', 'ACK', '42'));
    theirs.socket.destroy();
  });

  it('as the master link: hands on a transaction\'s bytes together, once EXEC has run', async () => {
    const loop = await startLoop();
    const { ours, theirs } = await connectOut();
    loop.net.adopt(ours, 'master');
    const transaction = command('MULTI') + command('ECHO', 'a') + command('ECHO', 'b') + command('EXEC');
    theirs.socket.write(transaction + command('PING'));
    while (loop.ran.length < 5) await turnEnd();
    expect(loop.handedOn).toEqual([transaction, command('PING')]);
    theirs.socket.destroy();
  });
});

describe('output held, and bytes encoded elsewhere', () => {
  it('keeps held output queued, then writes it in order once released', async () => {
    const loop = await startLoop();
    const client = await RawClient.connect(loop.port);
    await client.expectReply(command('PING'), '+PONG\r\n');
    const conn = onlyClient(loop);
    loop.net.holdOutput(conn);
    client.send(command('ECHO', 'first'));
    while (!loop.ran.some((r) => r.endsWith(':ECHO'))) await turnEnd();
    loop.net.sendTo(conn, encode(bulk('second'), 2));
    const written = conn.socket!.bytesWritten;
    await turnEnd();
    expect(conn.socket!.bytesWritten).toBe(written); // the turn ended, and nothing was written
    expect(conn.pendingOutputBytes).toBe(encode(bulk('first'), 2).length + encode(bulk('second'), 2).length);
    loop.net.releaseOutput(conn);
    expect((await client.readReplies(2)).bytes.toString()).toBe('$5\r\nfirst\r\n$6\r\nsecond\r\n');
    client.destroy();
  });

  it('counts held output against the output-buffer limit', async () => {
    const loop = await startLoop({ hardBytes: 64 * 1024 });
    const client = await RawClient.connect(loop.port);
    await client.expectReply(command('PING'), '+PONG\r\n');
    const conn = onlyClient(loop);
    loop.net.holdOutput(conn);
    const piece = encode(bulk('x'.repeat(16 * 1024)), 2);
    for (let i = 0; i < 3; i++) loop.net.sendTo(conn, piece);
    expect(conn.socket!.destroyed).toBe(false);
    loop.net.sendTo(conn, piece); // past 64 KiB, all of it held
    expect(conn.socket!.destroyed).toBe(true);
    await client.closed;
  });

  it('sends bytes encoded elsewhere after the replies queued before them', async () => {
    const loop = await startLoop();
    const client = await RawClient.connect(loop.port);
    await client.expectReply(command('PING'), '+PONG\r\n');
    const conn = onlyClient(loop);
    conn.reply.write(simple('before'));
    const shared = encode(bulk('shared'), 2);
    loop.net.sendTo(conn, shared);
    conn.reply.write(simple('after'));
    expect((await client.readReplies(3)).bytes.toString()).toBe('+before\r\n$6\r\nshared\r\n+after\r\n');
    client.destroy();
  });
});

describe('ByteQueue', () => {
  it('gives back the bytes in order, whatever the chunks and the pieces taken', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let chunkSize = 1; chunkSize <= 7; chunkSize++) {
      for (let pieceSize = 1; pieceSize <= 9; pieceSize++) {
        const queue = new ByteQueue();
        for (let at = 0; at < text.length; at += chunkSize) queue.push(Buffer.from(text.slice(at, at + chunkSize)));
        let out = '';
        while (queue.length > 0) out += queue.take(pieceSize).toString();
        expect(out).toBe(text);
        expect(queue.taken).toBe(text.length);
      }
    }
  });

  it('hands out a piece inside one chunk as a view of it, without a copy', () => {
    const queue = new ByteQueue();
    const chunk = Buffer.from('hello world');
    queue.push(chunk);
    const piece = queue.take(5);
    expect(piece.buffer).toBe(chunk.buffer);
    expect(piece.toString()).toBe('hello');
  });

  it('takes no more than it holds', () => {
    const queue = new ByteQueue();
    queue.push(Buffer.from('abc'));
    expect(queue.take(10).toString()).toBe('abc');
    expect(queue.take(1).length).toBe(0);
  });
});
