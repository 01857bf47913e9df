// Step 01: a TCP echo server. Every byte a client sends comes straight back.
//
// Run it:   make 01-tcp-echo        (or: npx tsx 01-tcp-echo/server.ts --port 6380)
// Try it:   nc -N localhost 6380    then type "hello"; Ctrl-D ends the connection
import type net from 'node:net';
import { COMMON_FLAGS, flagDefaults, isMain, runFromCommandLine, type FlagValues } from '../lib/cli.ts';
import { listen } from '../lib/listen.ts';
import { createLogger, type LogSink } from '../lib/log.ts';

export type Options = FlagValues<typeof COMMON_FLAGS> & { logSink?: LogSink };

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<Options> = {}): Promise<RunningServer> {
  const options: Options = { ...flagDefaults(COMMON_FLAGS), ...overrides };
  const log = createLogger(options.loglevel, options.logSink);
  // All connection state lives here, so close() can reach every client.
  const clients = new Set<net.Socket>();

  const listener = await listen(options.bind, options.port, (socket) => {
    clients.add(socket);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    log.debug(`Accepted ${peer}`);

    // A chunk is whatever bytes the kernel had ready: part of a line, or several lines.
    socket.on('data', (chunk: Buffer) => send(socket, chunk));
    // The client closed its sending side (Ctrl-D in nc). Everything it sent has been
    // echoed or is queued, so finish our side too.
    socket.on('end', () => socket.end());
    // A reset (the client vanished) is an ordinary event for a server, not a crash.
    socket.on('error', (err) => log.debug(`Client ${peer} error: ${err.message}`));
    socket.on('close', () => {
      clients.delete(socket);
      log.debug(`Client closed connection ${peer}`);
    });
  }, log);

  log.notice(`Ready to accept connections on ${listener.addresses.join(', ')}`);
  return {
    port: listener.port,
    async close() {
      for (const socket of clients) socket.destroy();
      await listener.close();
    },
  };
}

/**
 * Writes to a client without letting a slow reader make us buffer without limit.
 * write() returns false once the socket's send buffer is full (the client reads slower than
 * it writes): stop reading from that client until the buffer drains.
 */
function send(socket: net.Socket, bytes: Buffer): void {
  if (!socket.write(bytes) && !socket.isPaused()) {
    socket.pause();
    socket.once('drain', () => socket.resume());
  }
}

if (isMain(import.meta.url)) {
  await runFromCommandLine(COMMON_FLAGS, startServer);
}
