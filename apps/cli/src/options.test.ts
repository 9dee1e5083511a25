import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { Durability } from '@braid/client';
import { collectHeader, integerIn, parseDurability, splitKey } from './options.js';

describe('option parsers', () => {
  it('maps --durability names to the proto enum', () => {
    expect(parseDurability('fsync')).toBe(Durability.DURABILITY_FSYNC);
    expect(parseDurability('write')).toBe(Durability.DURABILITY_WRITE);
    expect(() => parseDurability('FSYNC')).toThrow(InvalidArgumentError);
  });

  it('accepts whole numbers in range only', () => {
    const partitions = integerIn(1, 4096);
    expect(partitions('8')).toBe(8);
    for (const bad of ['0', '4097', '1.5', '-1', '1e3', '', 'x', '0x10']) {
      expect(() => partitions(bad), bad).toThrow(/1-4096/);
    }
    expect(integerIn(0)('0')).toBe(0);
    expect(() => integerIn(0)('9007199254740993')).toThrow(/>= 0/);
  });

  it('collects repeated --header name=value, splitting at the first =', () => {
    expect(collectHeader('b=2=3', collectHeader('a=1'))).toEqual({ a: '1', b: '2=3' });
    expect(collectHeader('empty=')).toEqual({ empty: '' });
    expect(() => collectHeader('novalue')).toThrow(InvalidArgumentError);
    expect(() => collectHeader('=v')).toThrow(InvalidArgumentError);
  });

  it('splits a line at the first separator', () => {
    expect(splitKey('user-1::a::b', '::')).toEqual({ key: 'user-1', value: 'a::b' });
    expect(splitKey(':v', ':')).toEqual({ key: '', value: 'v' });
    expect(splitKey('none', ':')).toBeUndefined();
  });
});
