// A session's scratch workshop folder, and the mapping between the doc's world and the
// real one: doc ports (6380, 6381, ...) to free ports, the doc's workshop folder
// (/home/you/build-your-own-redis-typescript) to the scratch directory, and back for output.
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.ts';
import { removeDir, trackDir } from './processes.ts';
import { DOC_PORT } from './shell-words.ts';

/** What the docs call the folder the workshop was cloned into. */
export const WORKSHOP_FOLDER = '/home/you/build-your-own-redis-typescript';

/** Entries of the workshop's root that a session does not share: it gets a fresh data/. */
const NOT_LINKED = new Set(['data', '.git']);

export class Workspace {
  readonly dir: string;
  private readonly realPorts = new Map<number, number>();
  private readonly docPorts = new Map<number, number>();

  constructor(root: string) {
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), 'transcript-')));
    trackDir(this.dir);
    // Everything at the workshop's root, linked: make, npx, the step folders and
    // node_modules behave as in the reader's folder.
    for (const entry of readdirSync(root)) {
      if (!NOT_LINKED.has(entry)) symlinkSync(join(root, entry), join(this.dir, entry));
    }
    mkdirSync(join(this.dir, 'data'));
  }

  /** The real port for a doc port, chosen on first use. */
  async realPort(docPort: number): Promise<number> {
    let real = this.realPorts.get(docPort);
    if (real === undefined) {
      real = await freePort();
      this.usePort(docPort, real);
    }
    return real;
  }

  /** Maps a doc port to a port something already listens on (real Redis picks its own). */
  usePort(docPort: number, real: number): void {
    this.realPorts.set(docPort, real);
    this.docPorts.set(real, docPort);
  }

  /** Chooses real ports for every doc port in `text`. */
  async portsFor(text: string): Promise<void> {
    for (const m of text.matchAll(DOC_PORT)) await this.realPort(Number(m[0]));
  }

  /** What the reader types, made real: doc ports and the workshop folder. Call portsFor first. */
  toReal(text: string): string {
    return text.replaceAll(WORKSHOP_FOLDER, this.dir).replace(DOC_PORT, (port) => String(this.realPorts.get(Number(port)) ?? port));
  }

  /** What a program printed, as the doc shows it. */
  readonly toDoc = (line: string): string => {
    let out = line.replaceAll(this.dir, WORKSHOP_FOLDER);
    for (const [real, doc] of this.docPorts) out = out.replace(new RegExp(`(?<!\\d)${real}(?!\\d)`, 'g'), String(doc));
    return out;
  };

  remove(): void {
    removeDir(this.dir);
  }
}
