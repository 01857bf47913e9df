// Numbers as Redis reads them (string2ll) and INCRBYFLOAT's long-double arithmetic; the
// expected outputs were checked against Redis 7.0.15 on x86-64.
import { describe, expect, it } from 'vitest';
import { INT64_MAX, INT64_MIN, incrByFloat, parseInt64 } from './numbers.ts';

describe('parseInt64 accepts exactly what Redis string2ll accepts', () => {
  it.each([
    ['0', 0n],
    ['1', 1n],
    ['-1', -1n],
    ['42', 42n],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
  ])('%j is %s', (text, value) => {
    expect(parseInt64(text)).toBe(value);
  });

  it.each([
    '', '-', '+1', ' 1', '1 ', '01', '-0', '00', '1.0', '1e3', '0x10', 'abc', '1\x00',
    '9223372036854775808', '-9223372036854775809', '99999999999999999999', '١',
  ])('%j is not an integer', (text) => {
    expect(parseInt64(text)).toBeNull();
  });
});

describe('incrByFloat gives the digits Redis gives', () => {
  it.each([
    ['10.5', '0.1', '10.6'],
    ['10.6', '1e3', '1010.59999999999999998'],
    ['0.1', '0.2', '0.3'],
    ['100', '-0.00000000000000001', '99.99999999999999999'],
    ['0', '123456789012345678901234567890.5', '123456789012345678899921813504'],
    ['-0.5', '0.5', '0'],
    ['0', '-0', '0'],
    ['1.5', '1.5', '3'],
    ['3', '0.25', '3.25'],
    ['0', '5.0e3', '5000'],
    ['5000', '2.0e-2', '5000.02000000000000002'],
    ['0', '.5', '0.5'],
    ['0', '5.', '5'],
    ['0', '+1.5', '1.5'],
    ['0', '0x10', '16'], // strtold reads hex floats too
    ['0', '0x1.8p1', '3'],
    ['0', '99999999999999999999', '100000000000000000000'],
    ['-1', '0.1', '-0.9'],
  ])('%s + %s = %s', (current, increment, text) => {
    expect(incrByFloat(current, increment)).toEqual({ ok: true, text });
  });

  it.each([
    ['0', '1e-5000'], // underflows to zero: strtold's ERANGE
    ['0', '1e5000'], // overflows to infinity: ERANGE too
    ['0', 'abc'],
    ['0', ''],
    ['0', ' 1'],
    ['0', '1 '],
    ['0', 'nan'],
    ['0', '1e'],
    ['0', '0x'],
    ['x', '1'],
    ['0', '1'.repeat(5 * 1024)], // longer than Redis's MAX_LONG_DOUBLE_CHARS buffer
  ])('%j + %j is not a float', (current, increment) => {
    expect(incrByFloat(current, increment)).toEqual({ ok: false, reason: 'not-a-float' });
  });

  it.each([
    ['1.5', '-inf'],
    ['0', 'inf'],
    ['0', '-Infinity'],
    ['1e4932', '1e4932'], // a finite sum past the largest long double
  ])('%s + %s would produce NaN or Infinity', (current, increment) => {
    expect(incrByFloat(current, increment)).toEqual({ ok: false, reason: 'nan-or-infinity' });
  });
});
