// Step 04 against real Redis: every expiry command's replies and errors, byte for byte.
//
// Time moves between two servers' replies, so the cases are built to be exact anyway:
// deadlines are set far in the future and read back absolutely (EXPIRETIME after EXAT),
// relative TTLs are read in whole seconds (TTL rounds to the nearest second, so "EX 100"
// reads back 100 for the first half second), and PTTL is only compared where it is -2, -1
// or an error.
import { describeDifferential, type DiffCase } from '../test/helpers/differential.ts';

/** 2100-01-01T00:00:00Z: far enough in the future for any test run. */
const EXAT = '4102444800';
const PXAT = '4102444800123';
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

const cases: DiffCase[] = [
  // SET's expire options
  { name: 'SET EX then TTL', send: [['SET', 'k', 'v', 'EX', '100'], ['TTL', 'k'], ['GET', 'k']] },
  { name: 'SET PX then TTL', send: [['SET', 'k', 'v', 'PX', '100000'], ['TTL', 'k']] },
  { name: 'SET EXAT then EXPIRETIME and PEXPIRETIME', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k']] },
  { name: 'SET PXAT then PEXPIRETIME and EXPIRETIME', send: [['SET', 'k', 'v', 'PXAT', PXAT], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k']] },
  { name: 'EXPIRETIME rounds to the nearest second', send: [['SET', 'k', 'v', 'PXAT', '4102444800500'], ['EXPIRETIME', 'k'], ['SET', 'j', 'v', 'PXAT', '4102444800499'], ['EXPIRETIME', 'j']] },
  { name: 'SET options in lower case', send: [['set', 'k', 'v', 'ex', '100'], ['ttl', 'k'], ['set', 'k', 'v', 'pxat', PXAT], ['pexpiretime', 'k']] },
  { name: 'SET EX repeated: the last wins', send: [['SET', 'k', 'v', 'EX', '10', 'EX', '100'], ['TTL', 'k']] },
  { name: 'SET EX with NX on a new key', send: [['SET', 'k', 'v', 'NX', 'EX', '100'], ['TTL', 'k']] },
  { name: 'SET EX with NX on an existing key keeps the old deadline', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['SET', 'k', 'w', 'EX', '100', 'NX'], ['EXPIRETIME', 'k'], ['GET', 'k']] },
  { name: 'SET EX with XX on a missing key', send: [['SET', 'k', 'v', 'XX', 'EX', '100'], ['EXISTS', 'k']] },
  { name: 'SET EX with GET', send: [['SET', 'k', 'old'], ['SET', 'k', 'new', 'EX', '100', 'GET'], ['TTL', 'k'], ['SET', 'n', 'v', 'GET', 'PX', '100000']] },
  { name: 'SET KEEPTTL keeps the deadline', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['SET', 'k', 'w', 'KEEPTTL'], ['EXPIRETIME', 'k'], ['GET', 'k']] },
  { name: 'SET KEEPTTL on a key without deadline', send: [['SET', 'k', 'v'], ['SET', 'k', 'w', 'KEEPTTL'], ['TTL', 'k'], ['SET', 'n', 'v', 'KEEPTTL', 'KEEPTTL'], ['TTL', 'n']] },
  { name: 'SET without KEEPTTL drops the deadline', send: [['SET', 'k', 'v', 'EX', '100'], ['SET', 'k', 'w'], ['TTL', 'k']] },
  { name: 'SET XX drops the deadline', send: [['SET', 'k', 'v', 'EX', '100'], ['SET', 'k', 'w', 'XX'], ['TTL', 'k']] },
  { name: 'SET EX and PX together', send: [['SET', 'k', 'v', 'EX', '10', 'PX', '100']] },
  { name: 'SET EXAT and PXAT together', send: [['SET', 'k', 'v', 'EXAT', EXAT, 'PXAT', PXAT]] },
  { name: 'SET EX and KEEPTTL together', send: [['SET', 'k', 'v', 'EX', '10', 'KEEPTTL'], ['SET', 'k', 'v', 'KEEPTTL', 'PX', '10']] },
  { name: 'SET EX without an amount', send: [['SET', 'k', 'v', 'EX'], ['SET', 'k', 'v', 'NX', 'PXAT']] },
  { name: 'SET PERSIST is GETEX only', send: [['SET', 'k', 'v', 'PERSIST']] },
  { name: 'SET with zero and negative times', send: [['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'PX', '-1'], ['SET', 'k', 'v', 'EXAT', '0'], ['SET', 'k', 'v', 'PXAT', '-100'], ['EXISTS', 'k']] },
  { name: 'SET with non-integer times', send: [['SET', 'k', 'v', 'EX', 'abc'], ['SET', 'k', 'v', 'PX', '1.5'], ['SET', 'k', 'v', 'EX', ''], ['SET', 'k', 'v', 'EX', ' 1'], ['SET', 'k', 'v', 'EX', '+1'], ['SET', 'k', 'v', 'EX', '01']] },
  { name: 'SET with a syntax error and a bad time: syntax first', send: [['SET', 'k', 'v', 'EX', '0', 'BOGUS']] },
  { name: 'SET with a bad time and GET on a missing key', send: [['SET', 'k', 'v', 'EX', '0', 'GET']] },
  { name: 'SET EX overflow', send: [['SET', 'k', 'v', 'EX', '9223372036854775'], ['SET', 'k', 'v', 'EX', '9223372036854776'], ['SET', 'k', 'v', 'EX', INT64_MAX], ['SET', 'k', 'v', 'EX', '99999999999999999999']] },
  { name: 'SET PX overflow', send: [['SET', 'k', 'v', 'PX', INT64_MAX], ['SET', 'k', 'v', 'PX', '9223372036854775000']] },
  { name: 'SET EXAT and PXAT at the 64-bit limits', send: [['SET', 'k', 'v', 'EXAT', '9223372036854775'], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k'], ['SET', 'k', 'v', 'EXAT', '9223372036854776'], ['SET', 'k', 'v', 'PXAT', INT64_MAX], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k']] },
  { name: 'SET EXAT in the past stores a dead key', send: [['SET', 'k', 'v', 'EXAT', '1'], ['KEYS', '*'], ['GET', 'k'], ['EXISTS', 'k'], ['TTL', 'k']] },
  { name: 'SET PXAT in the past, then DEL', send: [['SET', 'k', 'v', 'PXAT', '1'], ['DEL', 'k'], ['SET', 'j', 'v', 'PXAT', '1'], ['SET', 'j', 'w', 'NX'], ['GET', 'j'], ['TTL', 'j']] },

  // SETEX and PSETEX
  { name: 'SETEX', send: [['SETEX', 'k', '100', 'v'], ['TTL', 'k'], ['GET', 'k']] },
  { name: 'PSETEX', send: [['PSETEX', 'k', '100000', 'v'], ['TTL', 'k'], ['GET', 'k']] },
  { name: 'SETEX replaces the deadline and the value', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['SETEX', 'k', '100', 'w'], ['TTL', 'k'], ['GET', 'k']] },
  { name: 'SETEX and PSETEX with bad times', send: [['SETEX', 'k', '0', 'v'], ['SETEX', 'k', '-5', 'v'], ['PSETEX', 'k', '0', 'v'], ['SETEX', 'k', 'x', 'v'], ['PSETEX', 'k', '1.0', 'v'], ['EXISTS', 'k']] },
  { name: 'SETEX and PSETEX overflow', send: [['SETEX', 'k', '9223372036854775', 'v'], ['SETEX', 'k', '9223372036854776', 'v'], ['PSETEX', 'k', INT64_MAX, 'v']] },
  { name: 'SETEX and PSETEX arity', send: [['SETEX', 'k', '10'], ['PSETEX', 'k', '10', 'v', 'x'], ['SETEX']] },

  // GETEX
  { name: 'GETEX of a missing key', send: [['GETEX', 'k'], ['GETEX', 'k', 'EX', '100'], ['GETEX', 'k', 'EX', '0'], ['GETEX', 'k', 'EX', 'abc'], ['EXISTS', 'k']] },
  { name: 'GETEX without options changes nothing', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['GETEX', 'k'], ['EXPIRETIME', 'k']] },
  { name: 'GETEX EX', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'EX', '100'], ['TTL', 'k']] },
  { name: 'GETEX PX', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'PX', '100000'], ['TTL', 'k']] },
  { name: 'GETEX EXAT and PXAT', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'EXAT', EXAT], ['EXPIRETIME', 'k'], ['GETEX', 'k', 'PXAT', PXAT], ['PEXPIRETIME', 'k']] },
  { name: 'GETEX PERSIST', send: [['SET', 'k', 'v', 'EX', '100'], ['GETEX', 'k', 'PERSIST'], ['TTL', 'k'], ['GETEX', 'k', 'persist', 'PERSIST'], ['TTL', 'k']] },
  { name: 'GETEX EXAT in the past deletes after replying', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'EXAT', '1'], ['EXISTS', 'k'], ['SET', 'j', 'v'], ['GETEX', 'j', 'PXAT', '1'], ['DBSIZE']] },
  { name: 'GETEX with bad times on an existing key', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'EX', '0'], ['GETEX', 'k', 'PX', '-1'], ['GETEX', 'k', 'EXAT', 'x'], ['GETEX', 'k', 'EX', '9223372036854776'], ['GETEX', 'k', 'PX', INT64_MAX], ['TTL', 'k']] },
  { name: 'GETEX option conflicts', send: [['SET', 'k', 'v'], ['GETEX', 'k', 'EX', '10', 'PX', '10'], ['GETEX', 'k', 'PERSIST', 'EX', '10'], ['GETEX', 'k', 'EX', '10', 'PERSIST'], ['GETEX', 'k', 'EX'], ['GETEX', 'k', 'NX'], ['GETEX', 'k', 'KEEPTTL'], ['GETEX', 'k', 'GET']] },
  { name: 'GETEX syntax errors come before the key lookup', send: [['GETEX', 'missing', 'BOGUS'], ['GETEX', 'missing', 'EX', '1', 'EX']] },
  { name: 'GETEX arity', send: [['GETEX']] },

  // EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
  { name: 'EXPIRE a missing key', send: [['EXPIRE', 'k', '100'], ['PEXPIRE', 'k', '100'], ['EXPIREAT', 'k', EXAT], ['PEXPIREAT', 'k', PXAT]] },
  { name: 'EXPIRE then TTL', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['TTL', 'k']] },
  { name: 'PEXPIRE then TTL', send: [['SET', 'k', 'v'], ['PEXPIRE', 'k', '100000'], ['TTL', 'k']] },
  { name: 'EXPIREAT then EXPIRETIME', send: [['SET', 'k', 'v'], ['EXPIREAT', 'k', EXAT], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k']] },
  { name: 'PEXPIREAT then PEXPIRETIME', send: [['SET', 'k', 'v'], ['PEXPIREAT', 'k', PXAT], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k']] },
  { name: 'EXPIRE 0 deletes the key', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '0'], ['EXISTS', 'k'], ['TTL', 'k']] },
  { name: 'EXPIRE with a negative time deletes the key', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '-100'], ['EXISTS', 'k'], ['SET', 'j', 'v'], ['PEXPIRE', 'j', '-1'], ['EXISTS', 'j']] },
  { name: 'EXPIREAT in the past deletes the key', send: [['SET', 'k', 'v'], ['EXPIREAT', 'k', '1'], ['EXISTS', 'k'], ['SET', 'j', 'v'], ['PEXPIREAT', 'j', '0'], ['EXISTS', 'j'], ['SET', 'i', 'v'], ['PEXPIREAT', 'i', INT64_MIN], ['DBSIZE']] },
  { name: 'EXPIRE with a non-integer time', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', 'abc'], ['EXPIRE', 'k', '1.5'], ['PEXPIREAT', 'k', ''], ['EXPIRE', 'missing', 'x'], ['TTL', 'k']] },
  { name: 'EXPIRE overflow', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '9223372036854775'], ['EXPIRE', 'k', '9223372036854776'], ['EXPIRE', 'k', '-9223372036854776'], ['EXPIRE', 'missing', '9223372036854776'], ['TTL', 'k']] },
  { name: 'PEXPIRE overflow', send: [['SET', 'k', 'v'], ['PEXPIRE', 'k', INT64_MAX], ['PEXPIRE', 'k', '9223372036854775000'], ['TTL', 'k']] },
  { name: 'EXPIREAT and PEXPIREAT at the 64-bit limits', send: [['SET', 'k', 'v'], ['EXPIREAT', 'k', '9223372036854776'], ['EXPIREAT', 'k', '9223372036854775'], ['PEXPIRETIME', 'k'], ['PEXPIREAT', 'k', INT64_MAX], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k']] },
  { name: 'EXPIRE with the most negative seconds', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '-9223372036854775'], ['EXISTS', 'k']] },
  { name: 'EXPIRE arity', send: [['EXPIRE', 'k'], ['PEXPIREAT'], ['TTL'], ['TTL', 'a', 'b'], ['PERSIST'], ['EXPIRETIME', 'a', 'b']] },
  { name: 'EXPIRE NX', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'NX'], ['EXPIRE', 'k', '200', 'NX'], ['TTL', 'k']] },
  { name: 'EXPIRE XX', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'XX'], ['TTL', 'k'], ['EXPIRE', 'k', '100'], ['EXPIRE', 'k', '200', 'XX'], ['TTL', 'k']] },
  { name: 'EXPIRE GT', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'GT'], ['TTL', 'k'], ['EXPIRE', 'k', '100'], ['EXPIRE', 'k', '50', 'GT'], ['EXPIRE', 'k', '200', 'GT'], ['TTL', 'k']] },
  { name: 'EXPIRE LT', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'LT'], ['TTL', 'k'], ['EXPIRE', 'k', '200', 'LT'], ['EXPIRE', 'k', '50', 'LT'], ['TTL', 'k']] },
  { name: 'EXPIREAT GT and LT with an equal deadline', send: [['SET', 'k', 'v'], ['EXPIREAT', 'k', EXAT], ['EXPIREAT', 'k', EXAT, 'GT'], ['EXPIREAT', 'k', EXAT, 'LT'], ['PEXPIREAT', 'k', '4102444800000', 'gt']] },
  { name: 'EXPIRE LT in the past on a key without deadline deletes it', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '-1', 'LT'], ['EXISTS', 'k'], ['SET', 'j', 'v'], ['EXPIRE', 'j', '-1', 'GT'], ['EXISTS', 'j']] },
  { name: 'EXPIRE XX GT and XX LT combine', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'XX', 'GT'], ['EXPIRE', 'k', '100'], ['EXPIRE', 'k', '200', 'XX', 'GT'], ['EXPIRE', 'k', '50', 'LT', 'XX'], ['TTL', 'k']] },
  { name: 'EXPIRE options may repeat', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '100', 'NX', 'nx'], ['EXPIRE', 'k', '200', 'GT', 'gt', 'XX'], ['TTL', 'k']] },
  { name: 'EXPIRE incompatible options', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '10', 'NX', 'XX'], ['EXPIRE', 'k', '10', 'NX', 'GT'], ['EXPIRE', 'k', '10', 'LT', 'NX'], ['EXPIRE', 'k', '10', 'GT', 'LT'], ['EXPIRE', 'k', '10', 'NX', 'GT', 'LT'], ['PEXPIREAT', 'k', '10', 'xx', 'lt', 'gt'], ['TTL', 'k']] },
  { name: 'EXPIRE unsupported options', send: [['SET', 'k', 'v'], ['EXPIRE', 'k', '10', 'FOO'], ['EXPIRE', 'k', '10', 'NX', 'KEEPTTL'], ['PEXPIRE', 'k', 'x', 'bar'], ['EXPIREAT', 'missing', '10', 'EX', '1'], ['EXPIRE', 'k', '10', 'a\r\nb']] },
  { name: 'EXPIRE option errors before the incompatible check', send: [['EXPIRE', 'k', '10', 'NX', 'XX', 'FOO']] },

  // TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST
  { name: 'TTL family on a missing key', send: [['TTL', 'k'], ['PTTL', 'k'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k']] },
  { name: 'TTL family on a key without deadline', send: [['SET', 'k', 'v'], ['TTL', 'k'], ['PTTL', 'k'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k']] },
  { name: 'PERSIST', send: [['PERSIST', 'k'], ['SET', 'k', 'v'], ['PERSIST', 'k'], ['EXPIRE', 'k', '100'], ['PERSIST', 'k'], ['TTL', 'k'], ['PERSIST', 'k'], ['GET', 'k']] },
  { name: 'TTL in RESP3', send: [['HELLO', '3'], ['SET', 'k', 'v', 'EX', '100'], ['TTL', 'k'], ['PTTL', 'missing']], normalize: (r) => r.replace(/(\$2\r\nid\r\n):\d+\r\n/, '$1:<id>\r\n') },

  // Which writes keep a deadline and which drop it
  { name: 'GETSET drops the deadline', send: [['SET', 'k', 'v', 'EX', '100'], ['GETSET', 'k', 'w'], ['TTL', 'k']] },
  { name: 'MSET drops the deadline', send: [['SET', 'k', 'v', 'EX', '100'], ['MSET', 'k', 'w', 'j', 'x'], ['TTL', 'k']] },
  { name: 'MSETNX leaves a deadline alone', send: [['SET', 'k', 'v', 'EX', '100'], ['MSETNX', 'k', 'w', 'j', 'x'], ['TTL', 'k']] },
  { name: 'SETNX leaves a deadline alone', send: [['SET', 'k', 'v', 'EX', '100'], ['SETNX', 'k', 'w'], ['TTL', 'k']] },
  { name: 'INCR and DECRBY keep the deadline', send: [['SET', 'k', '1', 'EXAT', EXAT], ['INCR', 'k'], ['DECRBY', 'k', '5'], ['EXPIRETIME', 'k']] },
  { name: 'INCRBYFLOAT keeps the deadline', send: [['SET', 'k', '1.5', 'EXAT', EXAT], ['INCRBYFLOAT', 'k', '2'], ['EXPIRETIME', 'k']] },
  { name: 'APPEND keeps the deadline', send: [['SET', 'k', 'v', 'EXAT', EXAT], ['APPEND', 'k', 'w'], ['EXPIRETIME', 'k'], ['GET', 'k']] },
  { name: 'DEL and GETDEL take the deadline with them', send: [['SET', 'k', 'v', 'EX', '100'], ['DEL', 'k'], ['SET', 'k', 'v'], ['TTL', 'k'], ['SET', 'j', 'v', 'EX', '100'], ['GETDEL', 'j'], ['SET', 'j', 'v'], ['TTL', 'j']] },
  { name: 'FLUSHALL takes the deadlines with it', send: [['SET', 'k', 'v', 'EX', '100'], ['FLUSHALL'], ['SET', 'k', 'v'], ['TTL', 'k']] },
  { name: 'a key expired in the past is gone for every command', send: [['SET', 'k', '5', 'PXAT', '1'], ['INCR', 'k'], ['TTL', 'k'], ['SET', 'j', 'abc', 'PXAT', '1'], ['APPEND', 'j', 'd'], ['GET', 'j'], ['SET', 'i', 'v', 'PXAT', '1'], ['STRLEN', 'i'], ['MGET', 'i', 'j'], ['PERSIST', 'i'], ['EXPIRE', 'i', '10']] },
];

describeDifferential('04-expiry', cases);
