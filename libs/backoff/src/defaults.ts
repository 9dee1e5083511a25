/**
 * The documented defaults of every backoff and retry option, in one place.
 * Options are merged with `??`, never `||`, so an explicit `0` means zero
 * (grpc-js's `backoff-timeout.ts` silently ignores `jitter: 0`; we don't).
 */
import type { ResolvedBackoffPolicy } from './policy.js';

/** Defaults applied to every `BackoffPolicy` option that is left out. */
export const BACKOFF_DEFAULTS: ResolvedBackoffPolicy = Object.freeze({
  /** Delay before the first retry, in milliseconds. */
  initialDelayMs: 1000,
  /** Growth factor between consecutive (un-jittered) delays. */
  multiplier: 2,
  /** Cap on any single delay, in milliseconds. */
  maxDelayMs: 60_000,
  /** Full jitter spreads retries of many clients best (AWS's measurements). */
  jitter: 'full',
  /** Total attempts, including the first one. */
  maxAttempts: 5,
  /** No overall time budget unless one is given. */
  deadlineMs: undefined,
});

/**
 * The default `isRetriable` of `retry()`: every failure is worth another try
 * unless the error says otherwise with `retriable === false` (the flag every
 * Braid error carries). Errors are `unknown`, so anything thrown — strings,
 * plain objects — is retried.
 */
export function defaultIsRetriable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  return !('retriable' in error && error.retriable === false);
}
