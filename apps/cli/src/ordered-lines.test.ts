import { describe, expect, it } from 'vitest';
import { OrderedLines } from './ordered-lines.js';

describe('OrderedLines', () => {
  it('prints lines in reservation order whatever order they are filled in, skipping empty slots', () => {
    let out = '';
    const lines = new OrderedLines((text) => { out += text; });
    const [a, b, c, d] = [lines.reserve(), lines.reserve(), lines.reserve(), lines.reserve()];
    lines.fill(c, 'c');
    lines.fill(b, undefined);
    expect(out).toBe('');
    lines.fill(a, 'a');
    expect(out).toBe('a\nc\n');
    lines.fill(d, 'd');
    expect(out).toBe('a\nc\nd\n');
  });
});
