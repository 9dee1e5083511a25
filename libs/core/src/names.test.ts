import { describe, expect, it } from 'vitest';
import { InvalidNameError } from './errors.js';
import { assertValidName } from './names.js';

describe('assertValidName', () => {
  it.each(['orders', 'a', 'user.events_v2-eu', 'x'.repeat(249), '...'])('accepts %s', (name) => {
    expect(() => { assertValidName('topic', name); }).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['.', 'dot'],
    ['..', 'dot-dot'],
    ['x'.repeat(250), 'too long'],
    ['has space', 'space'],
    ['slash/name', 'slash'],
    ['ünïcode', 'non-ascii'],
  ])('rejects %j (%s) with INVALID_ARGUMENT', (name) => {
    expect(() => { assertValidName('topic', name); }).toThrow(InvalidNameError);
  });
});
