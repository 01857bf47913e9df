// What the load generator sends: the workloads (PING, SET, GET, and a mix of GETs and
// SETs) over a keyspace of `keys` keys, each request written as a client sends it, an
// array of bulk strings.
//
// A load generator must cost less than the server it measures, or it measures itself. So
// requests are not encoded one by one: each command is encoded once, with a placeholder
// key, and a request is that template copied with the key's digits written into it, as
// redis-benchmark does with its __rand_int__ placeholder. A batch of requests is one
// Buffer, filled in place, and goes out in one socket write.
import { encodeCommand } from '../lib/resp-reply.ts';

export const WORKLOADS = ['ping', 'set', 'get', 'mix'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The mix: this share of GETs, the rest SETs. */
export const MIX_GET_SHARE = 0.8;

export interface WorkloadOptions {
  name: WorkloadName;
  /** Bytes in each SET's value. */
  valueSize: number;
  /** Requests pick their key uniformly among key:000000000000 .. key:(keys - 1). */
  keys: number;
}

/** Keys are "key:" and 12 digits, as redis-benchmark's -r writes them: all the same length. */
const KEY_DIGITS = 12;
const PLACEHOLDER = 'key:' + '0'.repeat(KEY_DIGITS);

export function keyName(index: number): string {
  return 'key:' + String(index).padStart(KEY_DIGITS, '0');
}

/** A command encoded once; `digitsAt` is where its key's digits start (-1: it has no key). */
export interface Template {
  bytes: Buffer;
  digitsAt: number;
}

export function template(args: string[]): Template {
  const bytes = encodeCommand(args);
  return { bytes, digitsAt: args.includes(PLACEHOLDER) ? bytes.indexOf(PLACEHOLDER, 0, 'latin1') + 4 : -1 };
}

/** Writes `index`'s 12 digits over the placeholder's, right to left. */
function writeKeyDigits(target: Buffer, at: number, index: number): void {
  let n = index;
  for (let i = at + KEY_DIGITS - 1; i >= at; i--) {
    target[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** Chooses each request of a workload, and writes batches of them. */
export class Workload {
  private readonly get: Template;
  private readonly set: Template;
  private readonly ping = template(['PING']);

  constructor(readonly options: WorkloadOptions) {
    this.get = template(['GET', PLACEHOLDER]);
    this.set = template(['SET', PLACEHOLDER, 'x'.repeat(options.valueSize)]);
  }

  /** The next request's template, by the workload's rule. */
  private choose(): Template {
    switch (this.options.name) {
      case 'ping':
        return this.ping;
      case 'set':
        return this.set;
      case 'get':
        return this.get;
      case 'mix':
        return Math.random() < MIX_GET_SHARE ? this.get : this.set;
    }
  }

  /** `count` requests, each on a key chosen at random, in one Buffer. */
  batch(count: number): Buffer {
    const chosen: Template[] = new Array(count);
    let size = 0;
    for (let i = 0; i < count; i++) {
      chosen[i] = this.choose();
      size += chosen[i]!.bytes.length;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const t of chosen) {
      t.bytes.copy(out, at);
      if (t.digitsAt >= 0) writeKeyDigits(out, at + t.digitsAt, Math.floor(Math.random() * this.options.keys));
      at += t.bytes.length;
    }
    return out;
  }

  /** Does the workload read keys? Then the keyspace is filled before the run. */
  get reads(): boolean {
    return this.options.name === 'get' || this.options.name === 'mix';
  }
}

/**
 * SET of every key from `first` to `first + count - 1` in order, with the workload's value
 * (and an expiry, `EX seconds`, when asked), as one Buffer: the keyspace a GET workload
 * reads, and the keys the memory benchmark loads.
 */
export function fillBatch(first: number, count: number, valueSize: number, expireSeconds?: number): Buffer {
  const args = ['SET', PLACEHOLDER, 'x'.repeat(valueSize)];
  const t = template(expireSeconds === undefined ? args : [...args, 'EX', String(expireSeconds)]);
  const out = Buffer.allocUnsafe(t.bytes.length * count);
  for (let i = 0; i < count; i++) {
    t.bytes.copy(out, i * t.bytes.length);
    writeKeyDigits(out, i * t.bytes.length + t.digitsAt, first + i);
  }
  return out;
}
