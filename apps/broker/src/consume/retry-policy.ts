/**
 * A subscription's retry policy as dispatch applies it: how many attempts a
 * record gets, how long it waits before the next one (exponential backoff
 * with jitter from `@braid/backoff`, or the member's own delay), whether
 * later records of its key wait for it, and where it goes when it is dead.
 * The settings and their defaults are read as the SDK reads them
 * (`subscriptionBackoff`, `effectiveRetryOrder` in `@braid/backoff`).
 */
import { computeDelay, effectiveRetryOrder, subscriptionBackoff } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import type { Random } from '@braid/core';
import { RetryOrder } from '@braid/proto';
import type { Subscription } from '@braid/proto';

/** See the file comment. */
export class RetryPolicy {
  /** Attempts before a record is dead-lettered, counting the first delivery. */
  readonly maxAttempts: number;
  /** Whether later records of a failed record's key wait for it (BLOCK_KEY). */
  readonly blockKey: boolean;
  /** The dead-letter topic. */
  readonly deadLetterTopic: string;
  private readonly backoff: BackoffPolicy;

  constructor(topic: string, subscription: Subscription) {
    const config = subscription.config;
    this.backoff = subscriptionBackoff(config?.retryPolicy);
    this.maxAttempts = this.backoff.maxAttempts ?? 5;
    this.blockKey = effectiveRetryOrder(config) === RetryOrder.RETRY_ORDER_BLOCK_KEY;
    this.deadLetterTopic = config?.deadLetterTopic || `${topic}.${subscription.name}.dlq`;
  }

  /** Whether a record whose attempt `attempt` failed is out of attempts. */
  exhausted(attempt: number): boolean {
    return attempt >= this.maxAttempts;
  }

  /**
   * Delay before the retry after failed attempt `attempt`, in whole ms:
   * the member's `requested` delay if it gave one, else the backoff
   * (`previousDelayMs` feeds decorrelated jitter).
   */
  delayMs(attempt: number, requested: number | undefined, previousDelayMs: number | undefined, random: Random): number {
    if (requested !== undefined) return requested;
    return Math.round(computeDelay(this.backoff, Math.max(1, attempt), previousDelayMs, random));
  }
}
