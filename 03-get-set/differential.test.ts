// Step 03 against real Redis 7: every command of the step, its options, its argument
// errors and its RESP3 shapes, compared byte for byte. Each case starts from an empty
// keyspace on a fresh connection.
import { describeDifferential, type DiffCase } from '../test/helpers/differential.ts';
import { FRAMING_DIFF_CASES, PROTOCOL_ERROR_DIFF_CASES } from '../test/helpers/protocol-suite.ts';

const withoutIds = (reply: string) => reply.replace(/(\$2\r\nid\r\n):\d+\r\n/g, '$1:<id>\r\n');
const RESP3: string[] = ['HELLO', '3'];

/** Cases for one group of commands: [name, commands]; every command's reply is compared. */
function group(prefix: string, entries: Array<[string, string[][]]>): DiffCase[] {
  return entries.map(([name, send]) => ({ name: `${prefix}: ${name}`, send }));
}

/** The same commands on a RESP3 connection; HELLO's own reply is compared without its id. */
function resp3(prefix: string, entries: Array<[string, string[][]]>): DiffCase[] {
  return entries.map(([name, send]) => ({ name: `RESP3 ${prefix}: ${name}`, send: [RESP3, ...send], normalize: withoutIds }));
}

const BIG = '9223372036854775807';
const SMALL = '-9223372036854775808';

/** Each command with one argument too few and one too many (where Redis has a maximum). */
const ARITY: Array<[string, string[][]]> = [
  ['GET', [['GET'], ['GET', 'a', 'b']]],
  ['SET', [['SET'], ['SET', 'k']]],
  ['SETNX', [['SETNX', 'k'], ['SETNX', 'k', 'v', 'x']]],
  ['GETSET', [['GETSET', 'k'], ['GETSET', 'k', 'v', 'x']]],
  ['GETDEL', [['GETDEL'], ['GETDEL', 'a', 'b']]],
  ['DEL', [['DEL']]],
  ['EXISTS', [['EXISTS']]],
  ['MGET', [['MGET']]],
  ['MSET', [['MSET'], ['MSET', 'k'], ['MSET', 'a', '1', 'b']]],
  ['MSETNX', [['MSETNX'], ['MSETNX', 'k'], ['MSETNX', 'a', '1', 'b']]],
  ['INCR', [['INCR'], ['INCR', 'a', 'b']]],
  ['DECR', [['DECR'], ['DECR', 'a', 'b']]],
  ['INCRBY', [['INCRBY', 'k'], ['INCRBY', 'k', '1', '2']]],
  ['DECRBY', [['DECRBY', 'k'], ['DECRBY', 'k', '1', '2']]],
  ['INCRBYFLOAT', [['INCRBYFLOAT', 'k'], ['INCRBYFLOAT', 'k', '1', '2']]],
  ['APPEND', [['APPEND', 'k'], ['APPEND', 'k', 'v', 'x']]],
  ['STRLEN', [['STRLEN'], ['STRLEN', 'a', 'b']]],
  ['GETRANGE', [['GETRANGE', 'k', '0'], ['GETRANGE', 'k', '0', '1', '2']]],
  ['KEYS', [['KEYS'], ['KEYS', '*', 'x']]],
  ['DBSIZE', [['DBSIZE', 'x']]],
  ['SELECT', [['SELECT'], ['SELECT', '0', '1']]],
  ['ECHO', [['ECHO'], ['ECHO', 'a', 'b']]],
  ['PING', [['PING', 'a', 'b']]],
  ['CONFIG', [['CONFIG']]],
  ['CONFIG GET', [['CONFIG', 'GET']]],
  ['CLIENT', [['CLIENT']]],
  ['CLIENT ID', [['CLIENT', 'ID', 'x']]],
  ['CLIENT GETNAME', [['CLIENT', 'GETNAME', 'x']]],
  ['CLIENT SETNAME', [['CLIENT', 'SETNAME'], ['CLIENT', 'SETNAME', 'a', 'b']]],
  ['COMMAND COUNT', [['COMMAND', 'COUNT', 'x']]],
  ['FLUSHALL', [['FLUSHALL', 'ASYNC', 'x']]],
  ['FLUSHDB', [['FLUSHDB', 'SYNC', 'x']]],
  ['mixed case', [['gEt'], ['Client', 'SetName']]],
];

const cases: DiffCase[] = [
  ...group('GET/SET', [
    ['set then get', [['SET', 'k', 'v'], ['GET', 'k']]],
    ['get missing', [['GET', 'nope']]],
    ['overwrite', [['SET', 'k', '1'], ['SET', 'k', '2'], ['GET', 'k']]],
    ['empty value', [['SET', 'k', ''], ['GET', 'k'], ['STRLEN', 'k']]],
    ['empty key', [['SET', '', 'v'], ['GET', ''], ['EXISTS', '']]],
    ['binary key and value', [['SET', '\x00\xff\r\n', 'a\r\nb\x00'], ['GET', '\x00\xff\r\n']]],
    ['NX on missing', [['SET', 'k', 'v', 'NX'], ['GET', 'k']]],
    ['NX on existing', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'NX'], ['GET', 'k']]],
    ['XX on missing', [['SET', 'k', 'v', 'XX'], ['GET', 'k']]],
    ['XX on existing', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'xx'], ['GET', 'k']]],
    ['NX and XX', [['SET', 'k', 'v', 'NX', 'XX']]],
    ['XX and NX', [['SET', 'k', 'v', 'XX', 'NX']]],
    ['NX twice', [['SET', 'k', 'v', 'NX', 'NX']]],
    ['GET option on missing', [['SET', 'k', 'v', 'GET'], ['GET', 'k']]],
    ['GET option on existing', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'GET'], ['GET', 'k']]],
    ['GET twice', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'GET', 'GET']]],
    ['NX GET on existing', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'NX', 'GET'], ['GET', 'k']]],
    ['NX GET on missing', [['SET', 'k', 'b', 'NX', 'GET'], ['GET', 'k']]],
    ['XX GET on missing', [['SET', 'k', 'b', 'XX', 'GET'], ['GET', 'k']]],
    ['GET XX on existing', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'GET', 'XX'], ['GET', 'k']]],
    ['unknown option', [['SET', 'k', 'v', 'FOO'], ['GET', 'k']]],
    ['an option that needs an argument (PX) without one', [['SET', 'k', 'v', 'PX']]],
    ['an option that needs an argument (EX) without one', [['SET', 'k', 'v', 'EX']]],
  ]),
  ...group('SETNX/GETSET/GETDEL', [
    ['SETNX missing', [['SETNX', 'k', 'v'], ['GET', 'k']]],
    ['SETNX existing', [['SET', 'k', 'a'], ['SETNX', 'k', 'v'], ['GET', 'k']]],
    ['GETSET missing', [['GETSET', 'k', 'v'], ['GET', 'k']]],
    ['GETSET existing', [['SET', 'k', 'a'], ['GETSET', 'k', 'b'], ['GET', 'k']]],
    ['GETDEL missing', [['GETDEL', 'k']]],
    ['GETDEL existing', [['SET', 'k', 'a'], ['GETDEL', 'k'], ['GET', 'k'], ['EXISTS', 'k']]],
  ]),
  ...group('DEL/EXISTS', [
    ['DEL missing', [['DEL', 'k']]],
    ['DEL some', [['MSET', 'a', '1', 'b', '2'], ['DEL', 'a', 'b', 'c', 'a']]],
    ['EXISTS counts repeats', [['SET', 'a', '1'], ['EXISTS', 'a', 'a', 'b']]],
    ['EXISTS none', [['EXISTS', 'x', 'y']]],
  ]),
  ...group('MGET/MSET/MSETNX', [
    ['MSET then MGET', [['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c', 'a']]],
    ['MSET same key twice', [['MSET', 'a', '1', 'a', '2'], ['GET', 'a']]],
    ['MGET nothing set', [['MGET', 'x']]],
    ['MSETNX all new', [['MSETNX', 'a', '1', 'b', '2'], ['MGET', 'a', 'b']]],
    ['MSETNX one exists', [['SET', 'b', 'old'], ['MSETNX', 'a', '1', 'b', '2'], ['MGET', 'a', 'b']]],
    ['MSETNX same key twice', [['MSETNX', 'a', '1', 'a', '2'], ['GET', 'a']]],
  ]),
  ...group('INCR/DECR', [
    ['INCR missing', [['INCR', 'n'], ['INCR', 'n'], ['GET', 'n']]],
    ['DECR missing', [['DECR', 'n'], ['GET', 'n']]],
    ['INCR existing', [['SET', 'n', '41'], ['INCR', 'n']]],
    ['INCR negative', [['SET', 'n', '-5'], ['INCR', 'n']]],
    ['INCR not a number', [['SET', 'n', 'abc'], ['INCR', 'n']]],
    ['INCR with spaces', [['SET', 'n', ' 1'], ['INCR', 'n']]],
    ['INCR with a plus', [['SET', 'n', '+1'], ['INCR', 'n']]],
    ['INCR leading zero', [['SET', 'n', '01'], ['INCR', 'n']]],
    ['INCR -0', [['SET', 'n', '-0'], ['INCR', 'n']]],
    ['INCR float', [['SET', 'n', '1.5'], ['INCR', 'n']]],
    ['INCR empty', [['SET', 'n', ''], ['INCR', 'n']]],
    ['INCR at max', [['SET', 'n', BIG], ['INCR', 'n'], ['GET', 'n']]],
    ['DECR at min', [['SET', 'n', SMALL], ['DECR', 'n']]],
    ['INCR too big', [['SET', 'n', '9223372036854775808'], ['INCR', 'n']]],
    ['INCRBY', [['INCRBY', 'n', '10'], ['INCRBY', 'n', '-3']]],
    ['INCRBY not a number', [['INCRBY', 'n', 'x']]],
    ['INCRBY float', [['INCRBY', 'n', '1.0']]],
    ['INCRBY overflow', [['SET', 'n', '1'], ['INCRBY', 'n', BIG]]],
    ['INCRBY underflow', [['SET', 'n', '-2'], ['INCRBY', 'n', SMALL]]],
    ['INCRBY min', [['INCRBY', 'n', SMALL]]],
    ['INCRBY too big', [['INCRBY', 'n', '9223372036854775808']]],
    ['DECRBY', [['DECRBY', 'n', '10'], ['DECRBY', 'n', '-3']]],
    ['DECRBY min', [['DECRBY', 'n', SMALL]]],
    ['DECRBY overflow', [['SET', 'n', '-2'], ['DECRBY', 'n', BIG]]],
    ['DECRBY not a number', [['DECRBY', 'n', '']]],
    ['INCR binary', [['SET', 'n', '1\x00'], ['INCR', 'n']]],
  ]),
  ...group('INCRBYFLOAT', [
    ['missing', [['INCRBYFLOAT', 'f', '1.5']]],
    ['10.5 + 0.1', [['SET', 'f', '10.5'], ['INCRBYFLOAT', 'f', '0.1']]],
    ['10.6 + 1e3', [['SET', 'f', '10.6'], ['INCRBYFLOAT', 'f', '1e3']]],
    ['0.1 + 0.2', [['SET', 'f', '0.1'], ['INCRBYFLOAT', 'f', '0.2']]],
    ['tiny negative', [['SET', 'f', '100'], ['INCRBYFLOAT', 'f', '-0.00000000000000001']]],
    ['huge', [['INCRBYFLOAT', 'f', '123456789012345678901234567890.5']]],
    ['integer result', [['SET', 'f', '1.5'], ['INCRBYFLOAT', 'f', '1.5']]],
    ['to zero', [['SET', 'f', '-0.5'], ['INCRBYFLOAT', 'f', '0.5']]],
    ['negative zero', [['INCRBYFLOAT', 'f', '-0']]],
    ['exponent', [['INCRBYFLOAT', 'f', '5.0e3'], ['INCRBYFLOAT', 'f', '2.0e-2']]],
    ['hex', [['INCRBYFLOAT', 'f', '0x10']]],
    ['leading dot', [['INCRBYFLOAT', 'f', '.5']]],
    ['trailing dot', [['INCRBYFLOAT', 'f', '5.']]],
    ['plus sign', [['INCRBYFLOAT', 'f', '+1.5']]],
    ['space', [['INCRBYFLOAT', 'f', ' 1']]],
    ['not a float', [['INCRBYFLOAT', 'f', 'abc']]],
    ['empty', [['INCRBYFLOAT', 'f', '']]],
    ['inf', [['INCRBYFLOAT', 'f', 'inf']]],
    ['-inf on 1.5', [['SET', 'f', '1.5'], ['INCRBYFLOAT', 'f', '-inf']]],
    ['nan', [['INCRBYFLOAT', 'f', 'nan']]],
    ['underflow', [['INCRBYFLOAT', 'f', '1e-5000']]],
    ['overflow', [['INCRBYFLOAT', 'f', '1e5000']]],
    ['stored not a float', [['SET', 'f', 'x'], ['INCRBYFLOAT', 'f', '1']]],
    ['stored integer', [['SET', 'f', '3'], ['INCRBYFLOAT', 'f', '0.25'], ['GET', 'f']]],
    ['integer beyond int64', [['INCRBYFLOAT', 'f', '99999999999999999999']]],
  ]),
  ...group('APPEND/STRLEN/GETRANGE', [
    ['APPEND missing', [['APPEND', 'k', 'abc'], ['GET', 'k']]],
    ['APPEND existing', [['SET', 'k', 'abc'], ['APPEND', 'k', '\x00\r\n'], ['GET', 'k']]],
    ['APPEND empty', [['APPEND', 'k', ''], ['EXISTS', 'k']]],
    ['APPEND to a number', [['INCR', 'k'], ['APPEND', 'k', '5'], ['INCR', 'k']]],
    ['STRLEN missing', [['STRLEN', 'k']]],
    ['STRLEN binary', [['SET', 'k', '\xff\xfe\x00'], ['STRLEN', 'k']]],
    ['GETRANGE', [['SET', 'k', 'Hello World'], ['GETRANGE', 'k', '0', '4'], ['GETRANGE', 'k', '-5', '-1'], ['GETRANGE', 'k', '0', '-1']]],
    ['GETRANGE out of range', [['SET', 'k', 'Hello'], ['GETRANGE', 'k', '3', '100'], ['GETRANGE', 'k', '10', '20'], ['GETRANGE', 'k', '-100', '2']]],
    ['GETRANGE reversed', [['SET', 'k', 'Hello'], ['GETRANGE', 'k', '3', '1'], ['GETRANGE', 'k', '-1', '-3'], ['GETRANGE', 'k', '-3', '1']]],
    ['GETRANGE missing', [['GETRANGE', 'k', '0', '-1']]],
    ['GETRANGE empty', [['SET', 'k', ''], ['GETRANGE', 'k', '0', '-1']]],
    ['GETRANGE not integers', [['SET', 'k', 'abc'], ['GETRANGE', 'k', 'a', '1'], ['GETRANGE', 'k', '0', '1.5']]],
    ['GETRANGE int64 bounds', [['SET', 'k', 'abc'], ['GETRANGE', 'k', '0', BIG], ['GETRANGE', 'k', SMALL, '1'], ['GETRANGE', 'k', SMALL, BIG]]],
    ['GETRANGE beyond int64', [['SET', 'k', 'abc'], ['GETRANGE', 'k', '0', '9223372036854775808']]],
    ['GETRANGE huge missing key', [['GETRANGE', 'nokey', '0', BIG]]],
  ]),
  ...group('KEYS', [
    ['star on one key', [['SET', 'only', '1'], ['KEYS', '*']]],
    ['nothing', [['KEYS', '*']]],
    ['question mark', [['SET', 'hello', '1'], ['KEYS', 'h?llo'], ['KEYS', 'h?lo']]],
    ['set', [['SET', 'hallo', '1'], ['KEYS', 'h[ae]llo'], ['KEYS', 'h[^e]llo'], ['KEYS', 'h[^a]llo']]],
    ['range', [['SET', 'hbllo', '1'], ['KEYS', 'h[a-c]llo'], ['KEYS', 'h[c-a]llo'], ['KEYS', 'h[d-z]llo']]],
    ['escape', [['SET', 'a*b', '1'], ['KEYS', 'a\\*b'], ['SET', 'axb', '1'], ['KEYS', 'a\\*b']]],
    ['unclosed set', [['SET', 'ab', '1'], ['KEYS', 'a[b'], ['KEYS', '[a']]],
    ['binary key', [['SET', 'k\x00\r\n', '1'], ['KEYS', 'k*']]],
    ['prefix', [['MSET', 'user:1', 'a', 'item:1', 'b'], ['KEYS', 'user:*']]],
    ['case sensitive', [['SET', 'Key', '1'], ['KEYS', 'key'], ['KEYS', 'Key']]],
    ['the empty key', [['SET', '', '1'], ['KEYS', '*'], ['KEYS', '**'], ['KEYS', '?*'], ['KEYS', ''], ['KEYS', '[']]],
    ['trailing backslash', [['SET', 'a\\', '1'], ['KEYS', 'a\\'], ['KEYS', 'a\\\\']]],
    ['escaped bracket in a set', [['SET', 'a]', '1'], ['KEYS', 'a[\\]]'], ['KEYS', 'a[]]']]],
    ['range with a dash at the end', [['SET', 'a-', '1'], ['KEYS', 'a[a-]'], ['SET', 'b^', '1'], ['KEYS', 'b[a-]']]],
    ['negated empty set', [['SET', 'a-', '1'], ['KEYS', 'a[^]'], ['KEYS', 'a[^]]']]],
  ]),
  ...group('DBSIZE/FLUSH/SELECT', [
    ['DBSIZE', [['DBSIZE'], ['MSET', 'a', '1', 'b', '2'], ['DBSIZE']]],
    ['FLUSHDB', [['SET', 'a', '1'], ['FLUSHDB'], ['DBSIZE']]],
    ['FLUSHALL', [['SET', 'a', '1'], ['FLUSHALL'], ['DBSIZE']]],
    ['FLUSHALL ASYNC/SYNC', [['FLUSHALL', 'ASYNC'], ['FLUSHALL', 'sync'], ['FLUSHDB', 'async']]],
    ['FLUSHALL bad option', [['SET', 'a', '1'], ['FLUSHALL', 'NOW'], ['DBSIZE']]],
    ['SELECT 0', [['SELECT', '0']]],
    ['SELECT 1', [['SELECT', '1']]],
    ['SELECT -1', [['SELECT', '-1']]],
    ['SELECT not a number', [['SELECT', 'x'], ['SELECT', '0.5'], ['SELECT', '']]],
    ['SELECT beyond int', [['SELECT', '4294967296'], ['SELECT', '2147483648']]],
  ]),
  ...group('connection', [
    ['PING', [['PING'], ['PING', 'hi']]],
    ['ECHO', [['ECHO', '\x00\xff']]],
    ['QUIT with arguments', [['QUIT', 'now']]],
    ['CLIENT SETNAME and GETNAME', [['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'worker-1'], ['CLIENT', 'GETNAME']]],
    ['CLIENT SETNAME empty clears it', [['CLIENT', 'SETNAME', 'x'], ['CLIENT', 'SETNAME', ''], ['CLIENT', 'GETNAME']]],
    ['CLIENT SETNAME with a space', [['CLIENT', 'SETNAME', 'a b'], ['CLIENT', 'GETNAME']]],
    ['CLIENT SETNAME with a newline', [['CLIENT', 'SETNAME', 'a\nb']]],
    ['CLIENT SETNAME non-ASCII', [['CLIENT', 'SETNAME', 'caf\xe9']]],
    ['CLIENT unknown subcommand', [['CLIENT', 'NOPE']]],
    ['CLIENT unknown subcommand with CRLF', [['client', 'a\r\nb']]],
    ['CONFIG unknown subcommand', [['config', 'nope', 'x']]],
    ['COMMAND unknown subcommand', [['COMMAND', 'x'.repeat(200)]]],
  ]),
  ...group('CONFIG GET', [
    ['save', [['CONFIG', 'GET', 'save']]],
    ['appendonly', [['CONFIG', 'GET', 'appendonly']]],
    ['upper case', [['CONFIG', 'GET', 'APPENDONLY']]],
    ['unknown', [['CONFIG', 'GET', 'no-such-setting']]],
    // Both servers are started with --bind 127.0.0.1: the answer is what --bind said.
    ['bind', [['CONFIG', 'GET', 'bind']]],
  ]),
  { name: 'CLIENT ID is an integer', send: [['CLIENT', 'ID']], normalize: (r) => r.replace(/^:\d+\r\n$/, ':<id>\r\n') },
  { name: 'HELLO', send: [['HELLO']], normalize: withoutIds },
  { name: 'HELLO 3 AUTH and SETNAME', send: [['HELLO', '3', 'AUTH', 'default', 'pw', 'SETNAME', 'me'], ['CLIENT', 'GETNAME']], normalize: withoutIds },
  { name: 'HELLO bad option with CRLF', send: [['HELLO', '3', 'x\r\ny']] },
  { name: 'HELLO 03', send: [['HELLO', '03']] },
  ...group('unknown commands', [
    ['plain', [['NOPE']]],
    ['with arguments', [['NOPE', 'a', 'b']]],
    ['long arguments', [['NOPE', 'a'.repeat(150), 'b']]],
    ['many arguments', [['NOPE', ...Array.from({ length: 60 }, (_, i) => `arg${i}`)]]],
    ['long name', [['x'.repeat(200), 'a']]],
    ['CRLF inside', [['NO\r\nPE', 'a\r\nb']]],
  ]),
  ...group('wrong number of arguments', ARITY),
  ...resp3('nulls', [
    ['GET missing', [['GET', 'k']]],
    ['SET NX fails', [['SET', 'k', 'a'], ['SET', 'k', 'b', 'NX']]],
    ['SET GET missing', [['SET', 'k', 'v', 'GET']]],
    ['GETSET/GETDEL missing', [['GETSET', 'k', 'v'], ['GETDEL', 'x']]],
    ['MGET', [['SET', 'a', '1'], ['MGET', 'a', 'b']]],
    ['CLIENT GETNAME', [['CLIENT', 'GETNAME']]],
  ]),
  ...resp3('shapes', [
    ['CONFIG GET save', [['CONFIG', 'GET', 'save']]],
    ['CONFIG GET unknown', [['CONFIG', 'GET', 'nope']]],
    ['KEYS', [['SET', 'a', '1'], ['KEYS', '*']]],
    ['KEYS empty', [['KEYS', '*']]],
    ['INCRBYFLOAT', [['INCRBYFLOAT', 'f', '1.5']]],
    ['INCR', [['INCR', 'n']]],
    ['errors', [['GET'], ['NOPE'], ['SET', 'k', 'v', 'NX', 'XX']]],
    ['PING', [['PING'], ['PING', 'x'], ['ECHO', 'y']]],
    ['SET', [['SET', 'k', 'v'], ['GET', 'k'], ['DEL', 'k'], ['EXISTS', 'k']]],
    ['back to RESP2', [['HELLO', '2'], ['GET', 'k']]],
  ]),
  // INFO's keyspace_hits and keyspace_misses: which commands count a read, and how many.
  ...[
    ['GET, MGET, GETDEL', [['GET', 'a'], ['GET', 'nosuch'], ['MGET', 'a', 'b', 'nosuch'], ['GETDEL', 'b'], ['GETDEL', 'b']]],
    ['EXISTS, STRLEN, GETRANGE, GETSET', [['EXISTS', 'a', 'nosuch', 'a'], ['STRLEN', 'a'], ['STRLEN', 'nosuch'], ['GETRANGE', 'a', '0', '1'], ['GETRANGE', 'nosuch', '0', '1'], ['GETSET', 'a', 'x'], ['GETSET', 'new', 'y']]],
    ['writes count no read', [['SET', 'a', '2'], ['SET', 'c', '1', 'NX'], ['INCR', 'c'], ['APPEND', 'c', 'x'], ['DEL', 'a', 'nosuch'], ['SETNX', 'c', 'z'], ['MSETNX', 'c', '1']]],
  ].map(([name, reads]) => ({
    name: `keyspace hits and misses: ${name as string}`,
    send: [['MSET', 'a', '1', 'b', '2'], ['INFO', 'stats'], ...(reads as string[][]), ['INFO', 'stats']],
    normalize: keyspaceStatsDelta,
  })),
  { name: 'pipelined mix', send: [['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a'], ['DEL', 'a'], ['GET', 'a'], ['NOPE'], ['PING']] },
  { name: 'inline SET with quotes', send: 'SET k "a b\\r\\n"\r\nGET k\r\n', replies: 2 },
  ...PROTOCOL_ERROR_DIFF_CASES,
  ...FRAMING_DIFF_CASES,
];

/**
 * Replaces the two INFO stats replies of a case by how much keyspace_hits and
 * keyspace_misses moved between them (the servers' absolute counts differ).
 */
function keyspaceStatsDelta(replies: string): string {
  const infos = [...replies.matchAll(/\$\d+\r\n# Stats\r\n[\s\S]*?\r\n\r\n/g)].map((m) => m[0]);
  if (infos.length !== 2) return `expected two INFO stats replies in: ${replies}`;
  const field = (info: string | undefined, name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info ?? '')?.[1] ?? NaN);
  const delta = (name: string) => field(infos[1], name) - field(infos[0], name);
  let rest = replies;
  for (const info of infos) rest = rest.replace(info, '<INFO>');
  return `${rest} hits +${delta('keyspace_hits')}, misses +${delta('keyspace_misses')}`;
}

describeDifferential('03-get-set', cases);
