// RDB, Redis's snapshot format: what SAVE and BGSAVE write to dump.rdb, what a server
// loads at start, and what a master sends a replica for a full resync. This codec writes
// RDB version 10, as Redis 7.0 does, and reads versions 1 to 12 (every Redis up to 7.4).
// Only string values are supported; any other type stops a load with a clear message.
//
// A tiny file, byte by byte (one key "k" = "v" that expires; spaces added):
//
//   52 45 44 49 53 30 30 31 30           "REDIS0010": magic, then the version in 4 digits
//   fa 09 "redis-ver" 06 "7.0.15"        AUX field: a name and a value, both strings
//   fa 0a "redis-bits" c0 40             ... the value 64, stored as an 8-bit integer
//   fa 05 "ctime" c2 xx xx xx xx         ... Unix seconds, a 32-bit integer
//   fa 08 "used-mem" c2 xx xx xx xx
//   fa 08 "aof-base" c0 00
//   fe 00                                SELECTDB: the keys that follow are in database 0
//   fb 01 01                             RESIZEDB: 1 key, 1 with a deadline (a size hint)
//   fc xx xx xx xx xx xx xx xx           EXPIRETIME_MS: the next key's deadline, Unix ms,
//                                        a 64-bit little-endian integer
//   00 01 "k" 01 "v"                     value type 0 (string), the key, the value
//   ff                                   EOF
//   xx xx xx xx xx xx xx xx              CRC-64 of every byte before it, little-endian
//                                        (all zeros: not computed, rdbchecksum no)
//
// Lengths take 1 to 9 bytes; the top two bits of the first byte say which form:
//   00xxxxxx                  0..63
//   01xxxxxx xxxxxxxx         0..16383 (14 bits, big-endian)
//   10000000 + 4 bytes        32 bits, big-endian
//   10000001 + 8 bytes        64 bits, big-endian
//   11xxxxxx                  not a length: a string in a special encoding follows
//
// A string is a length and that many bytes, or one of the special encodings:
//   c0 x / c1 xx / c2 xxxx    an integer of 8/16/32 bits, little-endian ("123" is c0 7b);
//                             Redis writes a string this way when it reads back as the
//                             same decimal integer, so "0123", "-0" and "+1" stay strings
//   c3 <clen> <len> <data>    LZF-compressed (lib/lzf.ts): clen bytes that expand to len
//
// Keys and values are latin1 strings (one char per byte), as everywhere in this repo.
// Deadlines are absolute Unix milliseconds as bigint, as the keyspaces store them.
//
//
// The codec is three files, as Redis keeps the format's numbers (rdb.h) apart from the code
// that writes and reads it (rdb.c):
//
//   rdb.ts          the format (this file): opcodes, value types, length and string
//                   encodings, the shapes on either side of a file (RdbEntry and
//                   RdbSnapshot in, RdbEvent out), and RdbError
//   rdb-encoder.ts  writing, in slices a server writes between event-loop turns:
//                   RdbEncoder, encodeRdb (rdb.c's rdbSaveRio and the rdbSave* it calls)
//   rdb-decoder.ts  reading, from bytes as they arrive, one event per key: RdbDecoder,
//                   decodeRdb, decodeRdbStream (rdb.c's rdbLoadRio and the rdbLoad* it
//                   calls)
//
// Reference: rdb.h and rdb.c in Redis's source, and
// https://rdb.fnordig.de/file_format.html

// ---------------------------------------------------------------------------------------
// The format's numbers (rdb.h)

/** The version this codec writes: Redis 7.0's. */
export const RDB_VERSION = 10;
/** The newest version it reads: Redis 7.4's. 11 and 12 changed nothing for strings. */
export const RDB_MAX_READ_VERSION = 12;
/** What the encoder writes as `redis-ver`: the Redis whose format it follows. */
export const RDB_REDIS_VERSION = '7.0.15';

export const OPCODE = {
  SLOT_INFO: 0xf4, // cluster slot sizes, a hint (version 12)
  FUNCTION2: 0xf5, // a Redis Functions library
  FUNCTION_PRE_GA: 0xf6, // the same, as 7.0's release candidates wrote it
  MODULE_AUX: 0xf7, // data a module keeps outside the keyspace
  IDLE: 0xf8, // the next key's LRU idle time, a hint
  FREQ: 0xf9, // the next key's LFU counter, a hint
  AUX: 0xfa, // a name = value field about the file
  RESIZEDB: 0xfb, // how many keys and deadlines the database has, a hint
  EXPIRETIME_MS: 0xfc, // the next key's deadline in ms
  EXPIRETIME: 0xfd, // the next key's deadline in seconds (RDB before version 3)
  SELECTDB: 0xfe, // the database of the keys that follow
  EOF: 0xff,
} as const;

export const TYPE_STRING = 0;

/** Value types by their byte, named as Redis's TYPE and OBJECT ENCODING would say. */
export const VALUE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'string',
  1: 'list (linked list)',
  2: 'set (hashtable)',
  3: 'zset (skiplist, text scores)',
  4: 'hash (hashtable)',
  5: 'zset (skiplist)',
  6: 'module value (v1)',
  7: 'module value',
  9: 'hash (zipmap)',
  10: 'list (ziplist)',
  11: 'set (intset)',
  12: 'zset (ziplist)',
  13: 'hash (ziplist)',
  14: 'list (quicklist)',
  15: 'stream (listpacks)',
  16: 'hash (listpack)',
  17: 'zset (listpack)',
  18: 'list (quicklist v2)',
  19: 'stream (listpacks v2)',
  20: 'set (listpack)',
  21: 'stream (listpacks v3)',
  22: 'hash (hashtable, field expiries, 7.4 RC)',
  23: 'hash (listpack, field expiries, 7.4 RC)',
  24: 'hash (hashtable, field expiries)',
  25: 'hash (listpack, field expiries)',
};

// The first byte of a length: its top two bits say which form follows.
export const LENGTH_14BIT = 0x40;
export const LENGTH_32BIT = 0x80;
export const LENGTH_64BIT = 0x81;
export const SPECIAL_ENCODING = 0xc0;
export const ENCODING = { INT8: 0, INT16: 1, INT32: 2, LZF: 3 } as const;

// ---------------------------------------------------------------------------------------
// What the codec reads and writes

/** One key of the keyspace. */
export interface RdbEntry {
  key: string;
  value: string;
  /** Absolute Unix ms after which the key is gone, or null if it never expires. */
  deadline: bigint | null;
}

/** The keys of one database to write, and the sizes Redis writes as RESIZEDB hints. */
export interface RdbSnapshot {
  /** Read once, lazily, as the encoder hands out slices. */
  entries: Iterable<RdbEntry>;
  /** How many entries there are (RESIZEDB hint). */
  keys: number;
  /** How many of them have a deadline (RESIZEDB hint). */
  expires: number;
  /** The database number for SELECTDB; 0 unless said. */
  db?: number;
}

/** What RdbDecoder finds in a file, in file order. */
export type RdbEvent =
  | { type: 'header'; version: number }
  | { type: 'aux'; name: string; value: string } // redis-ver, ctime, repl-id, ... and any other
  | { type: 'select-db'; db: number }
  | { type: 'resize-db'; keys: number; expires: number } // a hint: how big to make the tables
  | ({ type: 'entry' } & RdbEntry)
  | { type: 'end'; checksum: ChecksumCheck };

/** 'verified': it matched. 'not-computed': stored as 0 (rdbchecksum no). 'absent': RDB < 5. */
export type ChecksumCheck = 'verified' | 'not-computed' | 'absent';

/** A file the decoder cannot load. `offset` is the byte where the problem is. */
export class RdbError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RdbError';
  }
}
