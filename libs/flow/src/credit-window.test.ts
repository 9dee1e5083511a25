import { describe, expect, it } from 'vitest';
import { CreditWindow } from './credit-window.js';

describe('CreditWindow', () => {
  it('sends nothing before the first grant', () => {
    const window = new CreditWindow();
    expect(window.canSend(0)).toBe(false);
    expect(window.availableRecords).toBe(0);
    expect(window.availableBytes).toBe(Number.POSITIVE_INFINITY);
    expect(() => { window.consume(0); }).toThrow(RangeError);
  });

  it('counts records down to zero, never below, and refuses to send past them', () => {
    const window = new CreditWindow();
    window.grant(2, 0);
    window.consume(10);
    window.consume(10);
    expect(window.availableRecords).toBe(0);
    expect(window.canSend(1)).toBe(false);
    expect(() => { window.consume(1); }).toThrow(/exceeds credit/);
    expect(window.availableRecords).toBe(0);
    window.grant(1, 0);
    expect(window.canSend(1)).toBe(true);
  });

  it.each([
    [-1, 0],
    [0, -1],
    [1.5, 0],
    [0, 2.5],
    [Number.NaN, 0],
    [0, Number.POSITIVE_INFINITY],
    [Number.MAX_SAFE_INTEGER + 1, 0],
  ])('rejects grant(%s, %s) and leaves the credit unchanged', (records, bytes) => {
    const window = new CreditWindow();
    window.grant(1, 100);
    expect(() => { window.grant(records, bytes); }).toThrow(RangeError);
    expect(window.availableRecords).toBe(1);
    expect(window.availableBytes).toBe(100);
  });

  it('rejects invalid record sizes', () => {
    const window = new CreditWindow();
    window.grant(1, 0);
    expect(() => window.canSend(-1)).toThrow(RangeError);
    expect(() => { window.consume(0.5); }).toThrow(RangeError);
  });

  it('ignores bytes until the member grants some, then enforces them', () => {
    const window = new CreditWindow();
    window.grant(10, 0);
    expect(window.enforcesBytes).toBe(false);
    window.consume(1_000_000);
    expect(window.availableBytes).toBe(Number.POSITIVE_INFINITY);

    // Bytes sent before enforcement began are not charged to the new credit.
    window.grant(0, 100);
    expect(window.enforcesBytes).toBe(true);
    expect(window.availableBytes).toBe(100);
    window.consume(60);
    expect(window.availableBytes).toBe(40);
    expect(window.canSend(41)).toBe(false);
    expect(() => { window.consume(41); }).toThrow(RangeError);
    expect(window.canSend(40)).toBe(true);
    window.consume(40);
    expect(window.availableBytes).toBe(0);
    // An empty record needs a record of credit but no bytes.
    expect(window.canSend(0)).toBe(true);
  });

  it('keeps enforcing bytes after a later record-only grant', () => {
    const window = new CreditWindow();
    window.grant(1, 50);
    window.consume(50);
    window.grant(5, 0);
    expect(window.canSend(1)).toBe(false);
  });

  it('requires record credit even when byte credit is plentiful', () => {
    const window = new CreditWindow();
    window.grant(1, 1_000);
    window.consume(1);
    expect(window.availableBytes).toBe(999);
    expect(window.canSend(1)).toBe(false);
  });

  it('lets one oversized record through when byte credit is full, then waits for the debt to be paid', () => {
    const window = new CreditWindow();
    window.grant(10, 100);
    expect(window.canSend(250)).toBe(true);
    window.consume(250);
    // 150 bytes of debt: reported as 0, never negative.
    expect(window.availableBytes).toBe(0);
    expect(window.canSend(0)).toBe(false);

    window.grant(0, 100);
    expect(window.availableBytes).toBe(0);
    expect(window.canSend(1)).toBe(false);

    window.grant(0, 150);
    expect(window.availableBytes).toBe(100);
    expect(window.canSend(250)).toBe(true);
  });

  it('holds an oversized record back while other records are still outstanding', () => {
    const window = new CreditWindow();
    window.grant(10, 100);
    window.consume(10);
    expect(window.canSend(250)).toBe(false);
    expect(window.canSend(90)).toBe(true);
    // The member returns the 10 bytes: credit is full again.
    window.grant(1, 10);
    expect(window.canSend(250)).toBe(true);
  });
});

describe('CreditWindow oversized record with nothing outstanding', () => {
  it('sends a record larger than the remaining byte credit when the member holds nothing', () => {
    const window = new CreditWindow();
    window.grant(10, 100);
    window.consume(60, 0);
    // 40 bytes left, below the ceiling of 100: a 50-byte record waits while
    // something is outstanding, but goes once the member holds nothing.
    expect(window.canSend(50, 1)).toBe(false);
    expect(window.canSend(50, 0)).toBe(true);
    window.consume(50, 0);
    expect(window.availableRecords).toBe(8);
    expect(window.availableBytes).toBe(0);
  });
});
