/**
 * Every default in `@braid/flow`, in one place. Options are merged with `??`,
 * so an explicit `0` is taken as zero (and rejected where zero makes no
 * sense) instead of silently becoming the default.
 */
import { systemClock } from '@braid/core';

const MiB = 1024 * 1024;

/** Defaults for {@link CreditGrantorOptions}. */
export const creditGrantorDefaults = {
  /** Records the member lets the broker have in flight to it. */
  prefetchRecords: 1_000,
  /**
   * Bytes the member lets the broker have in flight to it (100 MiB, as
   * nodejs-pubsub's subscriber `maxBytes`). `Infinity` turns byte credit off.
   */
  prefetchBytes: 100 * MiB,
  /**
   * Top up once outstanding credit falls below this fraction of the
   * prefetch, so grants go out in batches rather than one per record.
   */
  topUpThreshold: 0.5,
} as const;

/** Defaults for {@link InFlightLimiterOptions}. */
export const inFlightLimiterDefaults = {
  /** Items in flight at once. */
  maxCount: 1_000,
  /** Bytes in flight at once (64 MiB). */
  maxBytes: 64 * MiB,
} as const;

/** Defaults for {@link TokenBucketOptions}. */
export const tokenBucketDefaults = {
  /** Real time; tests pass a `FakeClock` from `@braid/core/testing`. */
  clock: systemClock,
  /**
   * Bucket capacity for a given rate: one second's worth of tokens, but at
   * least one so a rate below 1/s can still hand out a whole token.
   */
  burst: (rate: number): number => Math.max(1, rate),
} as const;
