import { describe, expect, it } from 'vitest';
import { Jitter, RetryOrder, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import { effectiveRetryOrder, subscriptionBackoff } from './subscription-retry.js';

describe('subscriptionBackoff', () => {
  it("applies a subscription's policy and the contract's defaults for fields left at zero", () => {
    expect(subscriptionBackoff(undefined)).toEqual({ initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000, jitter: 'full', maxAttempts: 5 });
    expect(
      subscriptionBackoff({ maxAttempts: 3, initialBackoffMs: 20, multiplier: 3, maxBackoffMs: 500, jitter: Jitter.JITTER_DECORRELATED, retryOrder: RetryOrder.RETRY_ORDER_SKIP }),
    ).toEqual({ initialDelayMs: 20, multiplier: 3, maxDelayMs: 500, jitter: 'decorrelated', maxAttempts: 3 });
    // The first delay never exceeds the cap; a multiplier below 1 is the default.
    expect(subscriptionBackoff({ maxAttempts: 0, initialBackoffMs: 5_000, multiplier: 0.5, maxBackoffMs: 100, jitter: Jitter.JITTER_NONE, retryOrder: RetryOrder.RETRY_ORDER_UNSPECIFIED })).toMatchObject({
      initialDelayMs: 100,
      multiplier: 2,
      jitter: 'none',
    });
  });
});

describe('effectiveRetryOrder', () => {
  const config = (mode: SubscriptionMode, retryOrder = RetryOrder.RETRY_ORDER_UNSPECIFIED): SubscriptionConfig =>
    SubscriptionConfig.fromPartial({ mode, retryPolicy: { retryOrder } });

  it('follows the mode default when the retry order is unspecified: BLOCK_KEY for PARTITIONED and KEY_SHARED, SKIP for SHARED', () => {
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED))).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED))).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED))).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_SHARED))).toBe(RetryOrder.RETRY_ORDER_SKIP);
    expect(effectiveRetryOrder(undefined)).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_SHARED, RetryOrder.RETRY_ORDER_BLOCK_KEY))).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(effectiveRetryOrder(config(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, RetryOrder.RETRY_ORDER_SKIP))).toBe(RetryOrder.RETRY_ORDER_SKIP);
  });
});
