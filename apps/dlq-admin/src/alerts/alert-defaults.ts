/**
 * Defaults of dlq-admin's alerting, in one place (STYLE.md: options merged
 * with `??`, so `0` means zero).
 */
import type { BackoffPolicy } from '@braid/backoff';

/** Defaults of the alert rules, their evaluation and their webhook notices. */
export const alertDefaults = {
  /** How often every rule is checked against the queue summaries, in ms. */
  intervalMs: 5_000,
  /**
   * How long a notice is retried before it is given up, in ms, counted from
   * the event: a day, so a receiver that is down overnight still gets it.
   */
  webhookDeadlineMs: 24 * 60 * 60 * 1000,
  /** Deadline of one POST, in ms. */
  webhookTimeoutMs: 10_000,
  /**
   * Retry policy of a failed POST (`@braid/backoff`): 1 s doubling to at
   * most a minute, full jitter, no attempt limit (the deadline decides), so
   * a receiver that comes back gets its notices within about a minute.
   */
  webhookBackoff: {
    initialDelayMs: 1_000,
    multiplier: 2,
    maxDelayMs: 60_000,
    jitter: 'full',
  } satisfies BackoffPolicy,
  /** Notices waiting per webhook at most; beyond, the oldest waiting one is given up. */
  maxQueuedPerWebhook: 1_000,
  /** Alert events kept (in the store and in memory); older ones are deleted. */
  maxEvents: 1_000,
  /** Events `ListAlertStates` returns when `event_limit` is 0. */
  eventLimit: 50,
  /** Largest `event_limit`. */
  maxEventLimit: 1_000,
  /** Alert rules at most (each is checked every interval). */
  maxRules: 1_000,
  /** Webhooks per rule at most. */
  maxWebhooksPerRule: 10,
  /** Longest rule description, in characters. */
  maxDescriptionLength: 1_000,
  /** A failing POST is logged at its first failure and then every this many. */
  logEveryFailures: 10,
} as const;
