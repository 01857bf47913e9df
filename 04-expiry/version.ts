// 03: the version of Redis whose replies this server reproduces (HELLO, INFO). A module of
// its own that imports nothing, so that any file can read it while the step loads.
export const REDIS_VERSION = '7.0.15';
