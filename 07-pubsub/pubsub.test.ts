// Pub/Sub against real Redis, byte for byte, with several clients: what a subscriber
// receives and in which shape (RESP2 arrays, RESP3 pushes), what PUBLISH counts, patterns,
// the subscribed-mode rules of RESP2, PUBSUB's introspection, and the errors.
//
// Redis answers UNSUBSCRIBE (with no channel) and PUBSUB CHANNELS, and sends the pmessages
// of several matching patterns, in the order of its hash tables, which changes from run to
// run; those are compared with one channel or pattern at a time.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeDifferential } from '../test/helpers/differential.ts';
import { describeSessions, on, receives, type SessionCase } from '../test/helpers/sessions.ts';

const STEP = '07-pubsub';
const dir = fs.mkdtempSync(join(tmpdir(), 'pubsub-diff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const withoutIds = (transcript: string) => transcript.replace(/(\$2\r\nid\r\n:)\d+/g, '$1<id>');

const sessions: SessionCase[] = [
  {
    name: 'SUBSCRIBE, then PUBLISH from another client: the message arrives, PUBLISH counts 1',
    steps: [on(0, 'SUBSCRIBE', 'news'), on(1, 'PUBLISH', 'news', 'hello'), receives(0), on(1, 'PUBLISH', 'other', 'x')],
  },
  {
    name: 'SUBSCRIBE to several channels: one confirmation each, with the running count',
    steps: [{ client: 0, send: ['SUBSCRIBE', 'a', 'b', 'a'], replies: 3 }, on(1, 'PUBLISH', 'b', 'to b'), receives(0)],
  },
  {
    name: 'binary-safe channels and messages',
    steps: [on(0, 'SUBSCRIBE', 'ch\r\n\x00\xff'), on(1, 'PUBLISH', 'ch\r\n\x00\xff', '\x00\x01\r\n\xfe'), receives(0), on(1, 'PUBLISH', 'ch', '')],
  },
  {
    name: 'every subscriber of a channel receives, in order',
    steps: [on(0, 'SUBSCRIBE', 'c'), on(1, 'SUBSCRIBE', 'c'), on(2, 'PUBLISH', 'c', 'one'), on(2, 'PUBLISH', 'c', 'two'),
      { client: 0, send: [], replies: 2 }, { client: 1, send: [], replies: 2 }],
  },
  {
    name: 'PSUBSCRIBE: pmessage names the pattern and the channel',
    steps: [on(0, 'PSUBSCRIBE', 'news.*'), on(1, 'PUBLISH', 'news.tech', 'ts'), receives(0), on(1, 'PUBLISH', 'sport', 'x')],
  },
  {
    name: 'glob patterns: ?, [abc], [^a], [a-z] and backslash escapes, each PUBLISH checks each pattern',
    steps: [{ client: 0, send: ['PSUBSCRIBE', 'h?llo', 'c[ab]t', 'd[^o]g', 'x[a-c]z', 'star\\*'], replies: 5 },
      on(1, 'PUBLISH', 'hello', '1'), receives(0), on(1, 'PUBLISH', 'hllo', '2'), on(1, 'PUBLISH', 'cbt', '3'), receives(0),
      on(1, 'PUBLISH', 'dog', '4'), on(1, 'PUBLISH', 'dig', '5'), receives(0), on(1, 'PUBLISH', 'xbz', '6'), receives(0),
      on(1, 'PUBLISH', 'xdz', '7'), on(1, 'PUBLISH', 'star*', '8'), receives(0), on(1, 'PUBLISH', 'starx', '9')],
  },
  {
    // With two matching patterns, Redis sends the pmessages in its hash table's order.
    name: 'a channel subscriber that also matches a pattern gets the message, then the pmessage',
    steps: [on(0, 'SUBSCRIBE', 'news'), on(0, 'PSUBSCRIBE', 'n*'), on(1, 'PUBLISH', 'news', 'x'), { client: 0, send: [], replies: 2 }],
  },
  {
    name: 'UNSUBSCRIBE one channel, a channel it never had, and all (one left)',
    steps: [{ client: 0, send: ['SUBSCRIBE', 'a', 'b'], replies: 2 }, on(0, 'UNSUBSCRIBE', 'a'), on(0, 'UNSUBSCRIBE', 'zzz'),
      on(1, 'PUBLISH', 'a', 'gone'), on(0, 'UNSUBSCRIBE'), on(0, 'PING')],
  },
  {
    name: 'UNSUBSCRIBE and PUNSUBSCRIBE with nothing subscribed',
    steps: [on(0, 'UNSUBSCRIBE'), on(0, 'PUNSUBSCRIBE'), on(0, 'PUNSUBSCRIBE', 'x', 'y'), on(0, 'GET', 'k')],
  },
  {
    name: 'PUNSUBSCRIBE a pattern: channel subscriptions still count',
    steps: [on(0, 'SUBSCRIBE', 'a'), on(0, 'PSUBSCRIBE', 'p*'), on(0, 'PUNSUBSCRIBE', 'p*'), on(1, 'PUBLISH', 'pq', 'x'), on(0, 'PUNSUBSCRIBE')],
  },
  {
    name: 'RESP2 subscribed mode: only the subscribe family, PING and QUIT',
    steps: [on(0, 'SUBSCRIBE', 'a'), on(0, 'GET', 'k'), on(0, 'CONFIG', 'GET', 'save'), on(0, 'HELLO', '3'), on(0, 'MULTI'),
      on(0, 'PUBLISH', 'a', 'x'), on(0, 'PING'), on(0, 'PING', 'hi'), on(0, 'PING', 'a', 'b'), on(0, 'BOGUS'), on(0, 'QUIT')],
  },
  {
    name: 'RESP2: after the last UNSUBSCRIBE, every command works again',
    steps: [on(0, 'SUBSCRIBE', 'a'), on(0, 'UNSUBSCRIBE', 'a'), on(0, 'SET', 'k', 'v'), on(0, 'PING')],
  },
  {
    name: 'RESP3: pushes, every command allowed while subscribed, and PING as usual',
    steps: [on(0, 'HELLO', '3'), on(0, 'SUBSCRIBE', 'a'), on(0, 'SET', 'k', 'v'), on(0, 'GET', 'k'), on(0, 'PING'),
      on(1, 'PUBLISH', 'a', 'm'), receives(0), on(0, 'PSUBSCRIBE', 'a*'), on(1, 'PUBLISH', 'ab', 'p'), receives(0), on(0, 'UNSUBSCRIBE', 'a'), on(0, 'PUNSUBSCRIBE')],
    normalize: withoutIds,
  },
  {
    name: 'RESP3: a client publishing to its own channel gets the message, then the count',
    steps: [on(0, 'HELLO', '3'), on(0, 'SUBSCRIBE', 'self'), { client: 0, send: ['PUBLISH', 'self', 'me'], replies: 2 }],
    normalize: withoutIds,
  },
  {
    name: 'RESP3: HELLO 2 while subscribed brings the RESP2 rules back',
    steps: [on(0, 'HELLO', '3'), on(0, 'SUBSCRIBE', 'a'), on(0, 'HELLO', '2'), on(0, 'GET', 'k'), on(0, 'PING'),
      on(1, 'PUBLISH', 'a', 'now an array'), receives(0)],
    normalize: withoutIds,
  },
  {
    name: 'a RESP2 and a RESP3 subscriber of the same channel each get their own shape',
    steps: [on(0, 'HELLO', '3'), on(0, 'PSUBSCRIBE', 'x*'), on(1, 'PSUBSCRIBE', 'x*'), on(2, 'PUBLISH', 'xy', 'both'), receives(0), receives(1)],
    normalize: withoutIds,
  },
  {
    name: 'PUBSUB CHANNELS, NUMSUB and NUMPAT',
    steps: [on(0, 'SUBSCRIBE', 'news.tech'), on(1, 'SUBSCRIBE', 'news.tech'), on(1, 'PSUBSCRIBE', 'a*'), on(2, 'PSUBSCRIBE', 'a*'),
      on(3, 'PUBSUB', 'CHANNELS'), on(3, 'PUBSUB', 'CHANNELS', 'news.*'), on(3, 'PUBSUB', 'CHANNELS', 'x*'), on(3, 'PUBSUB', 'NUMSUB', 'news.tech', 'none'),
      on(3, 'PUBSUB', 'NUMSUB'), on(3, 'PUBSUB', 'NUMPAT'), on(3, 'HELLO', '3'), on(3, 'PUBSUB', 'NUMSUB', 'news.tech'), on(3, 'PUBSUB', 'CHANNELS')],
    normalize: withoutIds,
  },
  {
    name: 'a subscriber that leaves is no longer counted or sent to',
    steps: [on(0, 'SUBSCRIBE', 'a'), on(1, 'SUBSCRIBE', 'a'), on(0, 'QUIT'), on(2, 'PUBSUB', 'NUMSUB', 'a'), on(2, 'PUBLISH', 'a', 'x'), receives(1)],
  },
  {
    name: 'PUBLISH inside a transaction counts its receivers in EXEC',
    steps: [on(0, 'SUBSCRIBE', 'c'), on(1, 'MULTI'), on(1, 'PUBLISH', 'c', 'in tx'), on(1, 'PUBLISH', 'none', 'x'), on(1, 'EXEC'), receives(0)],
  },
  {
    name: 'the same channel or pattern twice, and NUMSUB naming a channel twice',
    steps: [on(0, 'SUBSCRIBE', 'a'), on(0, 'SUBSCRIBE', 'a'), on(0, 'PSUBSCRIBE', 'p*'), on(0, 'PSUBSCRIBE', 'p*'),
      on(1, 'PUBSUB', 'NUMSUB', 'a', 'a'), on(1, 'PUBSUB', 'NUMPAT'), on(1, 'PUBLISH', 'pa', 'once'), receives(0)],
  },
  {
    name: 'RESP3 PING with an argument while subscribed, then back to RESP2 and UNSUBSCRIBE',
    steps: [on(0, 'HELLO', '3'), on(0, 'SUBSCRIBE', 'a'), on(0, 'PING', 'hi'), on(0, 'HELLO', '2'), on(0, 'PING', 'hi'), on(0, 'UNSUBSCRIBE', 'a'), on(0, 'PING', 'hi')],
    normalize: withoutIds,
  },
  {
    name: 'PUBSUB CHANNELS with an escaped pattern',
    steps: [on(0, 'SUBSCRIBE', 'a*b'), on(1, 'PUBSUB', 'CHANNELS', 'a\\*b'), on(1, 'PUBSUB', 'CHANNELS', 'a\\*c')],
  },
  {
    name: 'SUBSCRIBE inside a transaction',
    steps: [on(0, 'MULTI'), on(0, 'SUBSCRIBE', 'z'), on(0, 'EXEC'), on(1, 'PUBLISH', 'z', 'after'), receives(0)],
  },
];

describeSessions(STEP, sessions, { dir, save: [] });

describeDifferential(STEP, [
  { name: 'PUBLISH to nobody', send: [['PUBLISH', 'nobody', 'x']] },
  { name: 'arity errors', send: [['SUBSCRIBE'], ['PSUBSCRIBE'], ['PUBLISH', 'a'], ['PUBLISH', 'a', 'b', 'c'], ['PUBSUB'], ['PUBSUB', 'NUMPAT', 'x']] },
  { name: 'PUBSUB errors as Redis words them', send: [['PUBSUB', 'FOO'], ['PUBSUB', 'CHANNELS', 'a', 'b'], ['pubsub', 'channels', 'a', 'b']] },
  { name: 'CONFIG GET client-output-buffer-limit', send: [['CONFIG', 'GET', 'client-output-buffer-limit']] },
], { dir, save: [] });
