// Step 07 keeps the RESP conformance of every step and step 05's transactions.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';
import { describeTransactions } from '../test/helpers/transaction-suite.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'pubsub-raw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeProtocolConformance('07-pubsub', { dir });
describeTransactions('07-pubsub', { dir, save: [] });
