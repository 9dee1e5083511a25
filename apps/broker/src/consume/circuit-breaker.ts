/**
 * A subscription's circuit breaker (optional, `SubscriptionConfig.circuit_breaker`):
 * when the consumers keep failing, the broker stops delivering for a
 * cool-down instead of burning through attempts, then lets a few probe
 * records through and resumes only if they succeed.
 *
 * - CLOSED: settlements are counted over a sliding window; once there are
 *   at least `minSettlements` and the failure ratio passes `failureRatio`,
 *   the breaker opens.
 * - OPEN: nothing is delivered until `cooldownMs` has passed; then HALF_OPEN.
 * - HALF_OPEN: at most `probeRecords` deliveries are let through; if they
 *   all succeed the breaker closes (with a fresh window), the first failure
 *   opens it again.
 *
 * Pure state over an injected clock; the dispatcher asks `allow()` before
 * each delivery, reports outcomes and tells members about transitions.
 */
import type { Clock } from '@braid/core';
import { CircuitState } from '@braid/proto';
import type { CircuitBreaker as CircuitBreakerConfig } from '@braid/proto';

/** Settings with defaults applied. */
export interface CircuitSettings {
  failureRatio: number;
  windowMs: number;
  minSettlements: number;
  cooldownMs: number;
  probeRecords: number;
}

/** The settings of `config`, or undefined when the breaker is off. */
export function circuitSettings(config: CircuitBreakerConfig | undefined): CircuitSettings | undefined {
  if (!config?.enabled) return undefined;
  return {
    failureRatio: config.failureRatio > 0 ? config.failureRatio : 0.5,
    windowMs: config.windowMs || 10_000,
    minSettlements: config.minSettlements || 20,
    cooldownMs: config.cooldownMs || 30_000,
    probeRecords: config.probeRecords || 5,
  };
}

/** See the file comment. */
export class CircuitBreaker {
  private stateValue = CircuitState.CIRCUIT_STATE_CLOSED;
  /** Settlement times and outcomes in the window, oldest first. */
  private readonly window: { at: number; failed: boolean }[] = [];
  private failures = 0;
  private openedAt = 0;
  private probesSent = 0;
  private probesSucceeded = 0;

  constructor(
    private settings: CircuitSettings,
    private readonly clock: Clock,
    /** Told about every state change. */
    private readonly onChange: (state: CircuitState) => void,
  ) {}

  /** The current state (OPEN turns HALF_OPEN once the cool-down has passed). */
  get state(): CircuitState {
    if (this.stateValue === CircuitState.CIRCUIT_STATE_OPEN && this.clock.now() - this.openedAt >= this.settings.cooldownMs) {
      this.transition(CircuitState.CIRCUIT_STATE_HALF_OPEN);
    }
    return this.stateValue;
  }

  /** When an open breaker starts probing (Unix ms), for the dispatcher's timer. */
  get probingAt(): number | undefined {
    return this.stateValue === CircuitState.CIRCUIT_STATE_OPEN ? this.openedAt + this.settings.cooldownMs : undefined;
  }

  /** Applies changed settings (keeps the state). */
  update(settings: CircuitSettings): void {
    this.settings = settings;
  }

  /** How many deliveries may go out now: unlimited when closed, none when open, the remaining probes when half-open. */
  allowance(): number {
    switch (this.state) {
      case CircuitState.CIRCUIT_STATE_OPEN:
        return 0;
      case CircuitState.CIRCUIT_STATE_HALF_OPEN:
        return Math.max(0, this.settings.probeRecords - this.probesSent);
      default:
        return Number.POSITIVE_INFINITY;
    }
  }

  /** `count` deliveries went out. */
  delivered(count: number): void {
    if (this.stateValue === CircuitState.CIRCUIT_STATE_HALF_OPEN) this.probesSent += count;
  }

  /** A delivery was acknowledged. */
  succeeded(): void {
    this.record(false);
    if (this.stateValue === CircuitState.CIRCUIT_STATE_HALF_OPEN) {
      this.probesSucceeded++;
      if (this.probesSucceeded >= this.settings.probeRecords) {
        this.window.length = 0;
        this.failures = 0;
        this.transition(CircuitState.CIRCUIT_STATE_CLOSED);
      }
    }
  }

  /** An attempt failed (nack, reject, expired lease, broken stream). */
  failed(): void {
    if (this.stateValue === CircuitState.CIRCUIT_STATE_HALF_OPEN) {
      this.open();
      return;
    }
    this.record(true);
    if (
      this.stateValue === CircuitState.CIRCUIT_STATE_CLOSED &&
      this.window.length >= this.settings.minSettlements &&
      this.failures / this.window.length >= this.settings.failureRatio
    ) {
      this.open();
    }
  }

  private record(failed: boolean): void {
    const now = this.clock.now();
    this.window.push({ at: now, failed });
    if (failed) this.failures++;
    while (this.window.length > 0 && (this.window[0]?.at ?? now) <= now - this.settings.windowMs) {
      if (this.window.shift()?.failed) this.failures--;
    }
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.transition(CircuitState.CIRCUIT_STATE_OPEN);
  }

  private transition(state: CircuitState): void {
    if (state === CircuitState.CIRCUIT_STATE_HALF_OPEN) {
      this.probesSent = 0;
      this.probesSucceeded = 0;
    }
    const changed = state !== this.stateValue;
    this.stateValue = state;
    if (changed || state === CircuitState.CIRCUIT_STATE_OPEN) this.onChange(state);
  }
}
