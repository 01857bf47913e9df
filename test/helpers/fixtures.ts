// The usual shape of a test file, as vitest hooks: a server (one for the whole file, or a
// fresh one per test), a fresh raw connection for each test so that a reply one failing
// test leaves unread cannot confuse the next, and connect() for tests that need more
// clients. Every client a test opened is closed after it.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { RawClient } from './raw-client.ts';
import type { TestServer } from './servers.ts';

export interface ServerFixture {
  readonly server: TestServer;
  /** A connection opened for this test. */
  readonly client: RawClient;
  /** Another connection, closed after the test. */
  connect(): Promise<RawClient>;
}

export interface FixtureOptions {
  /** 'each' starts a new server for every test (for tests that stop or break it). */
  serverPer?: 'file' | 'each';
}

/** Registers the hooks; read `.server` and `.client` inside tests. */
export function useServer(start: () => Promise<TestServer>, options: FixtureOptions = {}): ServerFixture {
  let server: TestServer | undefined;
  let client: RawClient | undefined;
  const opened: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(server!.port);
    opened.push(c);
    return c;
  };
  const startServer = async () => {
    server = await start();
  };
  const stopServer = async () => {
    await server?.close();
    server = undefined;
  };
  if (options.serverPer === 'each') {
    beforeEach(startServer);
  } else {
    beforeAll(startServer);
    afterAll(stopServer);
  }
  beforeEach(async () => {
    client = await connect();
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) c.destroy();
    if (options.serverPer === 'each') await stopServer();
  });
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
    connect,
  };
}
