// Step 05 keeps the RESP conformance of every step, now with each write going through the
// AOF (in a temporary directory, removed when the suite ends).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';

const dir = fs.mkdtempSync(join(tmpdir(), 'aof-raw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeProtocolConformance('05-aof-persistence', { dir, appendfsync: 'always' });
