// Step 06 keeps the RESP conformance of every step and step 05's transactions, with
// snapshots on (in a temporary directory, removed when the suite ends).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';
import { describeTransactions } from '../test/helpers/transaction-suite.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'rdb-raw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeProtocolConformance('06-rdb-snapshots', { dir });
describeTransactions('06-rdb-snapshots', { dir, save: [] });
