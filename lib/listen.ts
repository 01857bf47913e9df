// Listening on several addresses at once, as redis-server's "bind 127.0.0.1 ::1" does: one
// net.Server per address, all on the same port and all feeding the same handler.
import net from 'node:net';
import type { Logger } from './log.ts';

export interface Listener {
  /** The port every address listens on (the one chosen by the OS when asked for 0). */
  port: number;
  /** "host:port" for each address actually bound. */
  addresses: string[];
  /** Stops accepting connections. Open connections are the caller's to close. */
  close(): Promise<void>;
}

export async function listen(
  hosts: readonly string[],
  port: number,
  onConnection: (socket: net.Socket) => void,
  log: Logger,
): Promise<Listener> {
  // With port 0 the first address picks a free port and the others must get the same one;
  // if another program holds it on a later address, start over with a new port.
  for (let attempt = 0; ; attempt++) {
    try {
      return await listenOnce(hosts, port, onConnection, log);
    } catch (err) {
      if (port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

async function listenOnce(
  hosts: readonly string[],
  port: number,
  onConnection: (socket: net.Socket) => void,
  log: Logger,
): Promise<Listener> {
  const servers: net.Server[] = [];
  const addresses: string[] = [];
  const closeAll = () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  let boundPort = port;
  for (const host of hosts) {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
    try {
      boundPort = await listenOne(server, host, boundPort);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Like Redis, an address this machine does not have (no IPv6, say) is skipped.
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
        log.warning(`Could not create server TCP listening socket ${host}:${boundPort}: ${code}`);
        continue;
      }
      await closeAll();
      throw err;
    }
    servers.push(server);
    addresses.push(host.includes(':') ? `[${host}]:${boundPort}` : `${host}:${boundPort}`);
  }
  if (servers.length === 0) throw new Error(`could not listen on any of: ${hosts.join(' ')}`);
  return { port: boundPort, addresses, close: async () => void (await closeAll()) };
}

function listenOne(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
