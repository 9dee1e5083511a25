/**
 * A subscription's retry settings (`RetryPolicy` and `retry_order` in
 * common.proto) as everyone who applies them reads them: the broker that
 * retries, the SDK that holds a key back behind a nack, and the SDK's test
 * fake. The coordinator stores subscriptions with every default filled in;
 * the defaults here (the contract's) cover a field left at zero, e.g. a
 * subscription created before the field existed.
 */
import { Jitter, RetryOrder, SubscriptionMode } from '@braid/proto';
import type { RetryPolicy, SubscriptionConfig } from '@braid/proto';
import type { BackoffPolicy, Jitter as BackoffJitter } from './policy.js';

const jitters: Record<Jitter, BackoffJitter> = {
  [Jitter.JITTER_UNSPECIFIED]: 'full',
  [Jitter.JITTER_NONE]: 'none',
  [Jitter.JITTER_FULL]: 'full',
  [Jitter.JITTER_EQUAL]: 'equal',
  [Jitter.JITTER_DECORRELATED]: 'decorrelated',
  [Jitter.UNRECOGNIZED]: 'full',
};

/** The backoff between a subscription's retries and its attempts (first delivery included), with the contract's defaults. */
export function subscriptionBackoff(policy: RetryPolicy | undefined): Required<Pick<BackoffPolicy, 'initialDelayMs' | 'multiplier' | 'maxDelayMs' | 'jitter' | 'maxAttempts'>> {
  const maxDelayMs = policy?.maxBackoffMs || 60_000;
  return {
    initialDelayMs: Math.min(policy?.initialBackoffMs || 1_000, maxDelayMs),
    multiplier: policy?.multiplier && policy.multiplier >= 1 ? policy.multiplier : 2,
    maxDelayMs,
    jitter: jitters[policy?.jitter ?? Jitter.JITTER_UNSPECIFIED],
    maxAttempts: policy?.maxAttempts || 5,
  };
}

/**
 * The subscription's effective retry order: `retry_order`, or the mode's
 * default when unspecified (BLOCK_KEY for PARTITIONED and KEY_SHARED, SKIP
 * for SHARED).
 */
export function effectiveRetryOrder(config: SubscriptionConfig | undefined): RetryOrder {
  const order = config?.retryPolicy?.retryOrder ?? RetryOrder.RETRY_ORDER_UNSPECIFIED;
  if (order === RetryOrder.RETRY_ORDER_BLOCK_KEY || order === RetryOrder.RETRY_ORDER_SKIP) return order;
  return config?.mode === SubscriptionMode.SUBSCRIPTION_MODE_SHARED ? RetryOrder.RETRY_ORDER_SKIP : RetryOrder.RETRY_ORDER_BLOCK_KEY;
}
