// The usual shape of a test file, as vitest hooks: one server for the whole file, and a
// fresh raw connection for each test, so that a reply one failing test leaves unread
// cannot confuse the next.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { RawClient } from './raw-client.ts';
import type { TestServer } from './servers.ts';

export interface ServerFixture {
  readonly server: TestServer;
  readonly client: RawClient;
}

/** Registers the hooks; read `.server` and `.client` inside tests. */
export function useServer(start: () => Promise<TestServer>): ServerFixture {
  let server: TestServer | undefined;
  let client: RawClient | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    client = await RawClient.connect(server!.port);
  });
  afterEach(() => client?.destroy());
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
  };
}
