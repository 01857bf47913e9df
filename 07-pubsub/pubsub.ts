// 07: publish/subscribe (Redis's pubsub.c). A client SUBSCRIBEs to channels, or
// PSUBSCRIBEs to glob patterns (`news.*`), and from then on receives every message PUBLISHed
// to a matching channel, until it unsubscribes or goes away.
//
// Fire and forget: a message goes to whoever listens at that moment and is then gone. It is
// not stored, not logged to the AOF, not in any snapshot, not replayed to a client that
// subscribes later. That is what makes it cheap.
//
// The registry is two maps of sets: channel -> its subscribers, and pattern -> its
// subscribers, plus each client's own channels and patterns (to answer with its count,
// and to clean up when it leaves). PUBLISH looks up one channel (a channel nobody listens
// to costs one Map lookup) and then tries every pattern, as Redis does. The message is
// encoded once per protocol, and the same bytes go to every receiver.
import { formatOutputBufferLimits } from '../lib/cli.ts';
import { globMatch } from '../lib/glob.ts';
import { NULL_BULK, array, bulk, error, integer, push, type RespValue } from '../lib/resp.ts';
import { encode } from '../lib/resp-reply.ts';
import { other, type CommandFamily, type ErrorReply } from './command.ts';
import { helpFor } from './introspection.ts';
import type { Client } from './server.ts';

/** What one client listens to (Redis keeps these in the client: pubsub_channels/patterns). */
export class Subscriptions {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();

  get count(): number {
    return this.channels.size + this.patterns.size;
  }
}

type Kind = 'channel' | 'pattern';

/** The server's registry: who listens to each channel and to each pattern. */
export class PubSub {
  private readonly byChannel = new Map<string, Set<Client>>();
  private readonly byPattern = new Map<string, Set<Client>>();

  /** Adds the subscription; false if the client already had it. */
  subscribe(c: Client, kind: Kind, name: string): boolean {
    const own = kind === 'channel' ? c.subscriptions.channels : c.subscriptions.patterns;
    if (own.has(name)) return false;
    own.add(name);
    const registry = kind === 'channel' ? this.byChannel : this.byPattern;
    let clients = registry.get(name);
    if (clients === undefined) registry.set(name, (clients = new Set()));
    clients.add(c);
    return true;
  }

  /** Removes the subscription; false if the client did not have it. */
  unsubscribe(c: Client, kind: Kind, name: string): boolean {
    const own = kind === 'channel' ? c.subscriptions.channels : c.subscriptions.patterns;
    if (!own.delete(name)) return false;
    const registry = kind === 'channel' ? this.byChannel : this.byPattern;
    const clients = registry.get(name)!;
    clients.delete(c);
    // A channel nobody listens to any more takes no memory, and PUBSUB CHANNELS omits it.
    if (clients.size === 0) registry.delete(name);
    return true;
  }

  /** A client went away: it leaves every channel and pattern, and nothing refers to it. */
  unsubscribeAll(c: Client): void {
    for (const channel of [...c.subscriptions.channels]) this.unsubscribe(c, 'channel', channel);
    for (const pattern of [...c.subscriptions.patterns]) this.unsubscribe(c, 'pattern', pattern);
  }

  /**
   * PUBLISH: hands the message to every subscriber of the channel and of every matching
   * pattern, each message encoded once per protocol. Returns how many received it.
   */
  publish(c: Client, channel: string, message: string): number {
    let receivers = 0;
    const subscribers = this.byChannel.get(channel);
    if (subscribers !== undefined) {
      const encoded = encodedOnce(push([bulk('message'), bulk(channel), bulk(message)]));
      for (const subscriber of subscribers) c.server.net.sendTo(subscriber, encoded(subscriber));
      receivers += subscribers.size;
    }
    for (const [pattern, clients] of this.byPattern) {
      if (!globMatch(pattern, channel)) continue;
      const encoded = encodedOnce(push([bulk('pmessage'), bulk(pattern), bulk(channel), bulk(message)]));
      for (const subscriber of clients) c.server.net.sendTo(subscriber, encoded(subscriber));
      receivers += clients.size;
    }
    return receivers;
  }

  /** PUBSUB CHANNELS [pattern]: channels with at least one subscriber. */
  activeChannels(pattern?: string): string[] {
    return [...this.byChannel.keys()].filter((channel) => pattern === undefined || globMatch(pattern, channel));
  }

  subscriberCount(channel: string): number {
    return this.byChannel.get(channel)?.size ?? 0;
  }

  get channelCount(): number {
    return this.byChannel.size;
  }

  get patternCount(): number {
    return this.byPattern.size;
  }
}

/** The message's bytes for each protocol, encoded the first time a receiver needs them. */
function encodedOnce(message: RespValue): (receiver: Client) => Buffer {
  const bytes: { 2?: Buffer; 3?: Buffer } = {};
  return (receiver) => (bytes[receiver.protocol] ??= encode(message, receiver.protocol));
}

/**
 * SUBSCRIBE / PSUBSCRIBE / UNSUBSCRIBE / PUNSUBSCRIBE: one confirmation per name, each with
 * the client's subscription count after it: [kind, name, count], a push in RESP3. The
 * handler returns the last one; the ones before it are queued in order.
 */
function confirmEach(c: Client, reply: string, names: readonly (string | null)[], act: (name: string) => void): RespValue {
  let last: RespValue = NULL_BULK;
  names.forEach((name, i) => {
    if (name !== null) act(name);
    const confirmation = push([bulk(reply), bulk(name), integer(c.subscriptions.count)]);
    if (i < names.length - 1) c.reply.write(confirmation);
    else last = confirmation;
  });
  return last;
}

function subscribe(kind: Kind, reply: string): (c: Client, args: string[]) => RespValue {
  return (c, args) => confirmEach(c, reply, args.slice(1), (name) => c.server.pubsub.subscribe(c, kind, name));
}

/** With no names: every channel (or pattern) the client has; with none of those, one reply with null. */
function unsubscribe(kind: Kind, reply: string): (c: Client, args: string[]) => RespValue {
  return (c, args) => {
    const own = kind === 'channel' ? c.subscriptions.channels : c.subscriptions.patterns;
    const names = args.length > 1 ? args.slice(1) : own.size > 0 ? [...own] : [null];
    return confirmEach(c, reply, names, (name) => c.server.pubsub.unsubscribe(c, kind, name));
  };
}

/** In RESP2 a subscribed connection carries messages, so only these commands may be sent on it. */
const ALLOWED_WHILE_SUBSCRIBED = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/**
 * Refuses any other command from a subscribed RESP2 connection (Redis's processCommand).
 * RESP3 tells messages from replies by their type (a push), so there anything goes.
 */
export function refusedWhileSubscribed(c: Client, name: string): ErrorReply | null {
  if (c.protocol !== 2 || c.subscriptions.count === 0 || ALLOWED_WHILE_SUBSCRIBED.has(name)) return null;
  return { type: 'error', message: `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context` };
}

function publish(c: Client, [, channel, message]: string[]): RespValue {
  return integer(c.server.pubsub.publish(c, channel!, message!));
}

/** PUBSUB CHANNELS [pattern]: Redis checks its own argument count, and words it so. */
function pubsubChannels(c: Client, args: string[]): RespValue {
  if (args.length > 3) return error(`ERR unknown subcommand or wrong number of arguments for '${args[1]}'. Try PUBSUB HELP.`);
  return array(c.server.pubsub.activeChannels(args[2]).map(bulk));
}

/** PUBSUB NUMSUB [channel ...]: channel, count, channel, count... */
function pubsubNumsub(c: Client, args: string[]): RespValue {
  return array(args.slice(2).flatMap((channel) => [bulk(channel), integer(c.server.pubsub.subscriberCount(channel))]));
}

// Subscribing and publishing may be refused inside a transaction's EXEC by Redis only for
// clients that may not block; here every client may.
const pubsubCommand = (summary: string, arity: number, run: (c: Client, args: string[]) => RespValue) =>
  other('pubsub', summary, arity, run, ['noscript', 'loading', 'stale']);

export const pubsub: CommandFamily = {
  commands: {
    subscribe: pubsubCommand('Listen for messages published to the given channels', -2, subscribe('channel', 'subscribe')),
    unsubscribe: pubsubCommand('Stop listening for messages posted to the given channels', -1, unsubscribe('channel', 'unsubscribe')),
    psubscribe: pubsubCommand('Listen for messages published to channels matching the given patterns', -2, subscribe('pattern', 'psubscribe')),
    punsubscribe: pubsubCommand('Stop listening for messages posted to channels matching the given patterns', -1, unsubscribe('pattern', 'punsubscribe')),
    publish: other('pubsub', 'Post a message to a channel', 3, publish, ['loading', 'stale', 'fast']),
    pubsub: {
      arity: -2, flags: [], group: 'pubsub', summary: 'A container for Pub/Sub commands',
      subcommands: {
        channels: other('pubsub', 'List active channels', -2, pubsubChannels, ['loading', 'stale']),
        numsub: other('pubsub', 'Get the count of subscribers for channels', -2, pubsubNumsub, ['loading', 'stale']),
        numpat: other('pubsub', 'Get the count of unique patterns pattern subscriptions', 2, (c) => integer(c.server.pubsub.patternCount), ['loading', 'stale']),
        help: helpFor('pubsub'),
      },
    },
  },
  config: {
    'client-output-buffer-limit': ({ settings }) => formatOutputBufferLimits(settings.outputBufferLimits),
  },
  info: {
    Stats: ({ pubsub }) => [
      ['pubsub_channels', pubsub.channelCount],
      ['pubsub_patterns', pubsub.patternCount],
    ],
  },
};
