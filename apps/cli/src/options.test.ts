import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { Durability, StartPosition, SubscriptionMode } from '@braid/client';
import { collectHeader, collectOffset, integerIn, parseDuration, parseDurability, parseMode, parseStart, parseTime, positiveNumber, splitKey } from './options.js';

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

  it('maps --mode names in any case to the proto enum', () => {
    expect(parseMode('PARTITIONED')).toBe(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED);
    expect(parseMode('key_shared')).toBe(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED);
    expect(parseMode('Key-Shared')).toBe(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED);
    expect(parseMode('shared')).toBe(SubscriptionMode.SUBSCRIPTION_MODE_SHARED);
    expect(() => parseMode('exclusive')).toThrow(/PARTITIONED, KEY_SHARED or SHARED/);
  });

  it('parses --from as earliest, latest or a time', () => {
    expect(parseStart('earliest')).toEqual({ startPosition: StartPosition.START_POSITION_EARLIEST, startTimeMs: 0 });
    expect(parseStart('LATEST')).toEqual({ startPosition: StartPosition.START_POSITION_LATEST, startTimeMs: 0 });
    expect(parseStart('2024-05-01T12:00:00Z')).toEqual({ startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: Date.UTC(2024, 4, 1, 12) });
    expect(parseStart('1714564800000').startTimeMs).toBe(1714564800000);
    expect(() => parseStart('yesterday')).toThrow(/earliest/);
    expect(parseTime(' 42 ')).toBe(42);
    expect(() => parseTime('-5')).toThrow(InvalidArgumentError);
  });

  it('collects repeated --offset PARTITION:OFFSET', () => {
    expect(collectOffset('1:20', collectOffset('0:10'))).toEqual([
      { partition: 0, offset: 10 },
      { partition: 1, offset: 20 },
    ]);
    for (const bad of ['0', '0:', ':1', 'a:1', '0:-1', '0:1:2']) expect(() => collectOffset(bad), bad).toThrow(/PARTITION:OFFSET/);
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

  it('reads durations with units, alone or combined', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('0s')).toBe(0);
    for (const bad of ['', '10', '5 m', '1.5h', '-1h', 'h', '1w', '1h 30m', '10mss']) {
      expect(() => parseDuration(bad), bad).toThrow(/must be a duration/);
    }
  });

  it('accepts positive numbers, fractions too, for rates', () => {
    expect(positiveNumber('1000')).toBe(1000);
    expect(positiveNumber('0.5')).toBe(0.5);
    for (const bad of ['0', '-1', '', 'x', '1e3', 'Infinity']) expect(() => positiveNumber(bad), bad).toThrow(/> 0/);
  });
});
