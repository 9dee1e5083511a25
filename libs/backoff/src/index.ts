/**
 * Retry policies shared by broker, coordinator, client and dlq-admin, so all
 * of them back off the same way: exponential delays with a cap; full, equal
 * or decorrelated jitter; a limit on attempts and an overall deadline; with
 * time and randomness injected for tests.
 *
 * - `computeDelay()`: the pure delay formula.
 * - `Backoff`: the stateful policy (`next()`, `attempts`, `reset()`).
 * - `retry()`: the whole retry loop, abortable.
 * - `subscriptionBackoff()`, `effectiveRetryOrder()`: a subscription's
 *   retry settings (common.proto) as the broker and the SDK apply them.
 *
 * @packageDocumentation
 */
export type { BackoffPolicy, Jitter, ResolvedBackoffPolicy } from './policy.js';
export { resolveBackoffPolicy } from './policy.js';
export { BACKOFF_DEFAULTS, defaultIsRetriable } from './defaults.js';
export { computeDelay } from './compute-delay.js';
export type { BackoffOptions, ExhaustionReason } from './backoff.js';
export { Backoff } from './backoff.js';
export type { RetryInfo, RetryOptions } from './retry.js';
export { retry } from './retry.js';
export { RetryExhaustedError } from './errors.js';
export { effectiveRetryOrder, subscriptionBackoff } from './subscription-retry.js';
