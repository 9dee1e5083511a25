/**
 * A subscription's retry policy as dispatch applies it: how many attempts a
 * record gets, how long it waits before the next one (exponential backoff
 * with jitter from `@braid/backoff`, or the member's own delay), whether
 * later records of its key wait for it, and where it goes when it is dead.
 * The coordinator stores subscriptions with every default filled in; the
 * fallbacks here only cover a subscription created before a field existed.
 */
import { computeDelay } from '@braid/backoff';
import type { Jitter as BackoffJitter } from '@braid/backoff';
import type { Random } from '@braid/core';
import { Jitter, RetryOrder, SubscriptionMode } from '@braid/proto';
import type { Subscription } from '@braid/proto';

const jitters: Record<Jitter, BackoffJitter> = {
  [Jitter.JITTER_UNSPECIFIED]: 'full',
  [Jitter.JITTER_NONE]: 'none',
  [Jitter.JITTER_FULL]: 'full',
  [Jitter.JITTER_EQUAL]: 'equal',
  [Jitter.JITTER_DECORRELATED]: 'decorrelated',
  [Jitter.UNRECOGNIZED]: 'full',
};

/** See the file comment. */
export class RetryPolicy {
  /** Attempts before a record is dead-lettered, counting the first delivery. */
  readonly maxAttempts: number;
  /** Whether later records of a failed record's key wait for it (BLOCK_KEY). */
  readonly blockKey: boolean;
  /** The dead-letter topic. */
  readonly deadLetterTopic: string;
  private readonly backoff: { initialDelayMs: number; multiplier: number; maxDelayMs: number; jitter: BackoffJitter };

  constructor(topic: string, subscription: Subscription) {
    const config = subscription.config;
    const policy = config?.retryPolicy;
    this.maxAttempts = policy?.maxAttempts || 5;
    const order = policy?.retryOrder ?? RetryOrder.RETRY_ORDER_UNSPECIFIED;
    this.blockKey =
      order === RetryOrder.RETRY_ORDER_BLOCK_KEY ||
      (order !== RetryOrder.RETRY_ORDER_SKIP && config?.mode !== SubscriptionMode.SUBSCRIPTION_MODE_SHARED);
    this.deadLetterTopic = config?.deadLetterTopic || `${topic}.${subscription.name}.dlq`;
    const maxDelayMs = policy?.maxBackoffMs || 60_000;
    this.backoff = {
      initialDelayMs: Math.min(policy?.initialBackoffMs ?? 1000, maxDelayMs),
      multiplier: policy?.multiplier && policy.multiplier >= 1 ? policy.multiplier : 2,
      maxDelayMs,
      jitter: jitters[policy?.jitter ?? Jitter.JITTER_UNSPECIFIED],
    };
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
