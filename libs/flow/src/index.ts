/**
 * Flow-control primitives for the broker's hot path and the SDK: credit
 * windows for consumer streams (`CreditWindow` on the broker,
 * `CreditGrantor` in the member), a token bucket for delivery rates and
 * quotas, and an in-flight limiter for producers' bounded buffers. Time is
 * an injected `Clock` from `@braid/core`.
 *
 * @packageDocumentation
 */
export { CreditWindow } from './credit-window.js';
export { CreditGrantor } from './credit-grantor.js';
export type { CreditGrant, CreditGrantorOptions } from './credit-grantor.js';
export { TokenBucket } from './token-bucket.js';
export type { TokenBucketOptions } from './token-bucket.js';
export { InFlightLimiter } from './in-flight-limiter.js';
export type { InFlightLimiterOptions } from './in-flight-limiter.js';
export { creditGrantorDefaults, inFlightLimiterDefaults, tokenBucketDefaults } from './defaults.js';
