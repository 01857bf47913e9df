// Reading an append-only file back in tests: the commands it holds, one argument list each.
import fs from 'node:fs';
import { RequestParser } from '../../lib/resp-request.ts';

/** The commands in the AOF at `path`, in order (an incomplete last one is left out). */
export function commandsInAof(path: string): string[][] {
  const parser = new RequestParser();
  parser.feed(fs.readFileSync(path));
  const found: string[][] = [];
  for (let args = parser.next(); args !== null; args = parser.next()) found.push(args);
  return found;
}
