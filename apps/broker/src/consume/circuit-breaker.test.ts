import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { CircuitState } from '@braid/proto';
import { CircuitBreaker, circuitSettings } from './circuit-breaker.js';

function breaker(): { breaker: CircuitBreaker; clock: FakeClock; changes: CircuitState[] } {
  const clock = new FakeClock(1_000_000);
  const changes: CircuitState[] = [];
  const settings = circuitSettings({ enabled: true, failureRatio: 0.5, windowMs: 10_000, minSettlements: 10, cooldownMs: 5_000, probeRecords: 3 });
  if (!settings) throw new Error('breaker should be on');
  return { breaker: new CircuitBreaker(settings, clock, (state) => changes.push(state)), clock, changes };
}

describe('CircuitBreaker', () => {
  it('is off unless enabled, with defaults for unset fields', () => {
    expect(circuitSettings(undefined)).toBeUndefined();
    expect(circuitSettings({ enabled: false, failureRatio: 0.9, windowMs: 1, minSettlements: 1, cooldownMs: 1, probeRecords: 1 })).toBeUndefined();
    expect(circuitSettings({ enabled: true, failureRatio: 0, windowMs: 0, minSettlements: 0, cooldownMs: 0, probeRecords: 0 })).toEqual({
      failureRatio: 0.5,
      windowMs: 10_000,
      minSettlements: 20,
      cooldownMs: 30_000,
      probeRecords: 5,
    });
  });

  it('opens on a failure burst only once enough settlements are in the window', () => {
    const { breaker: b, changes } = breaker();
    for (let i = 0; i < 9; i++) b.failed();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    b.failed();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_OPEN);
    expect(b.allowance()).toBe(0);
    expect(changes).toEqual([CircuitState.CIRCUIT_STATE_OPEN]);
  });

  it('stays closed while failures are below the ratio, and forgets settlements older than the window', async () => {
    const { breaker: b, clock } = breaker();
    // 7 failures out of 20: below the ratio.
    for (let i = 0; i < 20; i++) {
      if (i % 3 === 0) b.failed();
      else b.succeeded();
    }
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    await clock.advance(10_001);
    // With the 20 still counted, 16 failures out of 29 would open it; alone, 9 are below min_settlements.
    for (let i = 0; i < 9; i++) b.failed();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
  });

  it('probes after the cool-down and closes when every probe succeeds', async () => {
    const { breaker: b, clock, changes } = breaker();
    for (let i = 0; i < 10; i++) b.failed();
    await clock.advance(4_999);
    expect(b.allowance()).toBe(0);
    await clock.advance(1);
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_HALF_OPEN);
    expect(b.allowance()).toBe(3);
    b.delivered(3);
    expect(b.allowance()).toBe(0);
    b.succeeded();
    b.succeeded();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_HALF_OPEN);
    b.succeeded();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    expect(b.allowance()).toBe(Number.POSITIVE_INFINITY);
    expect(changes).toEqual([CircuitState.CIRCUIT_STATE_OPEN, CircuitState.CIRCUIT_STATE_HALF_OPEN, CircuitState.CIRCUIT_STATE_CLOSED]);
  });

  it('opens again when a probe fails', async () => {
    const { breaker: b, clock } = breaker();
    for (let i = 0; i < 10; i++) b.failed();
    await clock.advance(5_000);
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_HALF_OPEN);
    b.delivered(1);
    b.failed();
    expect(b.state).toBe(CircuitState.CIRCUIT_STATE_OPEN);
    expect(b.probingAt).toBe(clock.now() + 5_000);
  });
});
