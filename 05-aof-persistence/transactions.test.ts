// Transactions against real Redis, byte for byte, in RESP2 and RESP3 (the shared suite in
// test/helpers/transaction-suite.ts): MULTI, EXEC, DISCARD, WATCH and UNWATCH, their
// errors, what is queued and what is refused, what WATCH counts as a change (a write, a
// delete, FLUSHALL, an expired key), and WATCH races between clients.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeTransactions } from '../test/helpers/transaction-suite.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'tx-diff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeTransactions('05-aof-persistence', { dir, appendfsync: 'always' });
