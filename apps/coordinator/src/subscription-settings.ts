/**
 * Subscription settings as a client sends them (`SubscriptionConfig`, zero
 * meaning "use the default") checked against their limits and completed
 * with defaults, for `CreateSubscription` and `UpdateSubscription`.
 *
 * Checking happens in two steps so every request gets the most useful
 * status: `parseSubscriptionConfig` needs nothing but the request and
 * rejects bad values (INVALID_ARGUMENT, naming the field as spelled in the
 * .proto, the limit and the value received); then `newSubscriptionSettings`
 * (create) or `updatedSubscriptionSettings` (update, against the current
 * settings) fill in what depends on the mode and start position.
 */
import { FailedPreconditionError, InvalidArgumentError, assertValidName, maxNameLength } from '@braid/core';
import {
  Jitter,
  RetryOrder,
  StartPosition,
  SubscriptionMode,
  jitterToJSON,
  retryOrderToJSON,
  startPositionToJSON,
  subscriptionModeToJSON,
} from '@braid/proto';
import type { CircuitBreaker, RateLimit, RetryPolicy, SubscriptionConfig } from '@braid/proto';
import { subscriptionDefaults, subscriptionLimits } from './defaults.js';

/** A mode a subscription can have (never UNSPECIFIED). */
export type ResolvedMode =
  | SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED
  | SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED
  | SubscriptionMode.SUBSCRIPTION_MODE_SHARED;
/** A start position a subscription can have (never UNSPECIFIED). */
export type ResolvedStartPosition =
  | StartPosition.START_POSITION_EARLIEST
  | StartPosition.START_POSITION_LATEST
  | StartPosition.START_POSITION_TIMESTAMP;
/** A jitter a retry policy can have (never UNSPECIFIED). */
export type ResolvedJitter = Jitter.JITTER_NONE | Jitter.JITTER_FULL | Jitter.JITTER_EQUAL | Jitter.JITTER_DECORRELATED;
/** A retry order a retry policy can have (never UNSPECIFIED). */
export type ResolvedRetryOrder = RetryOrder.RETRY_ORDER_BLOCK_KEY | RetryOrder.RETRY_ORDER_SKIP;

/** Retries and dead-lettering, every default filled in. */
export interface RetrySettings {
  /** Attempts before dead-lettering, counting the first delivery; 1-1000. */
  maxAttempts: number;
  /** Delay before the first retry (ms); at most `maxBackoffMs`. */
  initialBackoffMs: number;
  /** Growth factor between delays; finite, at least 1. */
  multiplier: number;
  /** Cap on a single delay (ms). */
  maxBackoffMs: number;
  jitter: ResolvedJitter;
  retryOrder: ResolvedRetryOrder;
}

/** Subscription-wide delivery rate; `recordsPerSecond` 0 is unlimited (and `burst` then 0). */
export interface RateLimitSettings {
  recordsPerSecond: number;
  burst: number;
}

/** Circuit breaker settings; stored with defaults also while disabled, so enabling it later shows what applies. */
export interface CircuitBreakerSettings {
  enabled: boolean;
  /** In (0, 1]. */
  failureRatio: number;
  windowMs: number;
  minSettlements: number;
  cooldownMs: number;
  probeRecords: number;
}

/** Settings of a subscription with every default filled in. */
export interface SubscriptionSettings {
  mode: ResolvedMode;
  startPosition: ResolvedStartPosition;
  /** Start time (Unix ms) with START_POSITION_TIMESTAMP, else 0. */
  startTimeMs: number;
  /** 100 ms - 12 h. */
  ackTimeoutMs: number;
  /** 1-100000. */
  maxUnackedPerMember: number;
  retryPolicy: RetrySettings;
  /** A valid topic name, not the subscription's own topic (it need not exist yet). */
  deadLetterTopic: string;
  rateLimit: RateLimitSettings;
  circuitBreaker: CircuitBreakerSettings;
}

/**
 * A checked `SubscriptionConfig`: everything resolved except what depends
 * on the subscription's mode and start position, which an update may leave
 * unset to keep (`undefined` here).
 */
export interface RequestedSubscriptionSettings extends Omit<SubscriptionSettings, 'mode' | 'startPosition' | 'retryPolicy'> {
  mode: ResolvedMode | undefined;
  startPosition: ResolvedStartPosition | undefined;
  retryPolicy: Omit<RetrySettings, 'retryOrder'> & { retryOrder: ResolvedRetryOrder | undefined };
}

function invalid(field: string, got: number | string, rule: string, limit?: number): InvalidArgumentError {
  const metadata: Record<string, string> = { field, got: String(got) };
  if (limit !== undefined) metadata['limit'] = String(limit);
  return new InvalidArgumentError(`${field} ${rule} (got ${typeof got === 'string' ? JSON.stringify(got) : got})`, { metadata });
}

/**
 * An integer setting between `min` and `max` (`Infinity`: no upper bound),
 * 0 taking `defaultValue`. Values from the wire are always integers; the
 * check matters for callers that build configs in code.
 */
function integerSetting(field: string, value: number, min: number, max: number, defaultValue: number): number {
  const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `between ${min} and ${max}`;
  const rule = `must be ${range}, or 0 for the default ${defaultValue}`;
  if (!Number.isSafeInteger(value)) throw invalid(field, value, `must be an integer ${range}, or 0 for the default ${defaultValue}`);
  if (value === 0) return defaultValue;
  if (value < min) throw invalid(field, value, rule, min);
  if (value > max) throw invalid(field, value, rule, max);
  return value;
}

/** A duration or count that may be anything from 0 up (0 taking `defaultValue`). */
function nonNegativeSetting(field: string, value: number, defaultValue: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, value, `must be a non-negative integer, or 0 for the default ${defaultValue}`, 0);
  }
  return value === 0 ? defaultValue : value;
}

/**
 * An enum value: 0 (UNSPECIFIED) gives `undefined`, a known value itself,
 * anything else INVALID_ARGUMENT. A newer client may send a value this
 * coordinator does not know; guessing would silently change delivery.
 */
function enumSetting<T extends number>(field: string, typeName: string, value: number, known: readonly T[], toJSON: (value: T) => string): T | undefined {
  if (value === 0) return undefined;
  const match = known.find((candidate) => candidate === value);
  if (match !== undefined) return match;
  const choices = known.map((candidate) => `${toJSON(candidate)} (${candidate})`).join(', ');
  throw invalid(field, value, `is not a known ${typeName}: use ${choices} or 0 for the default`);
}

const modes: readonly ResolvedMode[] = [
  SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
  SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
];
const startPositions: readonly ResolvedStartPosition[] = [
  StartPosition.START_POSITION_EARLIEST,
  StartPosition.START_POSITION_LATEST,
  StartPosition.START_POSITION_TIMESTAMP,
];
const jitters: readonly ResolvedJitter[] = [Jitter.JITTER_NONE, Jitter.JITTER_FULL, Jitter.JITTER_EQUAL, Jitter.JITTER_DECORRELATED];
const retryOrders: readonly ResolvedRetryOrder[] = [RetryOrder.RETRY_ORDER_BLOCK_KEY, RetryOrder.RETRY_ORDER_SKIP];

function parseRetryPolicy(policy: RetryPolicy | undefined): RequestedSubscriptionSettings['retryPolicy'] {
  const defaults = subscriptionDefaults.retryPolicy;
  const maxAttempts = integerSetting('config.retry_policy.max_attempts', policy?.maxAttempts ?? 0, 1, subscriptionLimits.maxAttempts, defaults.maxAttempts);
  const initialBackoffMs = nonNegativeSetting('config.retry_policy.initial_backoff_ms', policy?.initialBackoffMs ?? 0, defaults.initialBackoffMs);
  const rawMultiplier = policy?.multiplier ?? 0;
  // NaN and infinities arrive as doubles from any client; none is a factor.
  if (!Number.isFinite(rawMultiplier) || (rawMultiplier !== 0 && rawMultiplier < 1)) {
    throw invalid(
      'config.retry_policy.multiplier',
      rawMultiplier,
      `must be a finite number of at least 1 (1 keeps delays constant), or 0 for the default ${defaults.multiplier}`,
      1,
    );
  }
  const multiplier = rawMultiplier === 0 ? defaults.multiplier : rawMultiplier;
  const maxBackoffMs = nonNegativeSetting('config.retry_policy.max_backoff_ms', policy?.maxBackoffMs ?? 0, defaults.maxBackoffMs);
  if (initialBackoffMs > maxBackoffMs) {
    const initialNote = (policy?.initialBackoffMs ?? 0) === 0 ? ', the default' : '';
    const maxNote = (policy?.maxBackoffMs ?? 0) === 0 ? ', the default' : '';
    throw new InvalidArgumentError(
      `config.retry_policy.initial_backoff_ms (${initialBackoffMs}${initialNote}) must not exceed config.retry_policy.max_backoff_ms (${maxBackoffMs}${maxNote})`,
      { metadata: { field: 'config.retry_policy.initial_backoff_ms', got: String(initialBackoffMs), limit: String(maxBackoffMs) } },
    );
  }
  const jitter =
    enumSetting('config.retry_policy.jitter', 'Jitter', policy?.jitter ?? 0, jitters, jitterToJSON) ?? defaults.jitter;
  const retryOrder = enumSetting('config.retry_policy.retry_order', 'RetryOrder', policy?.retryOrder ?? 0, retryOrders, retryOrderToJSON);
  return { maxAttempts, initialBackoffMs, multiplier, maxBackoffMs, jitter, retryOrder };
}

function parseRateLimit(limit: RateLimit | undefined): RateLimitSettings {
  const recordsPerSecond = limit?.recordsPerSecond ?? 0;
  if (!Number.isFinite(recordsPerSecond) || recordsPerSecond < 0 || recordsPerSecond > subscriptionLimits.maxRecordsPerSecond) {
    throw invalid(
      'config.rate_limit.records_per_second',
      recordsPerSecond,
      `must be between 0 (unlimited) and ${subscriptionLimits.maxRecordsPerSecond}`,
      recordsPerSecond > 0 ? subscriptionLimits.maxRecordsPerSecond : 0,
    );
  }
  const burst = limit?.burst ?? 0;
  if (!Number.isSafeInteger(burst) || burst < 0) {
    throw invalid('config.rate_limit.burst', burst, 'must be a non-negative integer, or 0 for one second\'s worth of records', 0);
  }
  if (recordsPerSecond === 0 && burst !== 0) {
    // A burst without a rate limits nothing; most likely the rate was forgotten.
    throw invalid('config.rate_limit.burst', burst, 'needs config.rate_limit.records_per_second above 0 (0 is unlimited and takes no burst)');
  }
  return { recordsPerSecond, burst: burst === 0 ? subscriptionDefaults.rateLimit.burst(recordsPerSecond) : burst };
}

function parseCircuitBreaker(breaker: CircuitBreaker | undefined): CircuitBreakerSettings {
  const defaults = subscriptionDefaults.circuitBreaker;
  const failureRatio = breaker?.failureRatio ?? 0;
  if (!Number.isFinite(failureRatio) || failureRatio < 0 || failureRatio > 1) {
    throw invalid(
      'config.circuit_breaker.failure_ratio',
      failureRatio,
      `must be in (0, 1], or 0 for the default ${defaults.failureRatio}`,
      failureRatio > 1 ? 1 : 0,
    );
  }
  return {
    enabled: breaker?.enabled ?? defaults.enabled,
    failureRatio: failureRatio === 0 ? defaults.failureRatio : failureRatio,
    windowMs: nonNegativeSetting('config.circuit_breaker.window_ms', breaker?.windowMs ?? 0, defaults.windowMs),
    minSettlements: nonNegativeSetting('config.circuit_breaker.min_settlements', breaker?.minSettlements ?? 0, defaults.minSettlements),
    cooldownMs: nonNegativeSetting('config.circuit_breaker.cooldown_ms', breaker?.cooldownMs ?? 0, defaults.cooldownMs),
    probeRecords: nonNegativeSetting('config.circuit_breaker.probe_records', breaker?.probeRecords ?? 0, defaults.probeRecords),
  };
}

/** Shortens a long name for a message; the full length is reported beside it. */
function preview(name: string): string {
  return name.length <= 60 ? name : `${name.slice(0, 57)}...`;
}

function parseDeadLetterTopic(topic: string, name: string, requested: string): string {
  const field = 'config.dead_letter_topic';
  if (requested === '') {
    const deadLetterTopic = subscriptionDefaults.deadLetterTopic(topic, name);
    if (deadLetterTopic.length > maxNameLength) {
      // The broker creates the dead-letter topic under this name, so a
      // subscription whose default cannot be a topic would fail only when
      // its first record is dead-lettered: refuse it now instead.
      const room = maxNameLength - (deadLetterTopic.length - name.length);
      const shorter = room > 0 ? `use a subscription name of at most ${room} characters on this topic, or ` : '';
      throw new InvalidArgumentError(
        `${field} is empty, and the default "<topic>.<subscription>.dlq" ("${preview(deadLetterTopic)}") would be ${deadLetterTopic.length} characters, over the ${maxNameLength} allowed for a topic name: ${shorter}set ${field}`,
        { metadata: { field, got: String(deadLetterTopic.length), limit: String(maxNameLength) } },
      );
    }
    return deadLetterTopic;
  }
  try {
    assertValidName('topic', requested);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError(`${field} must be a valid topic name: ${why}`, { cause: error, metadata: { field } });
  }
  if (requested === topic) {
    // Dead letters written back to the topic would be delivered to this
    // subscription again, fail again, and loop for ever.
    throw invalid(field, requested, 'must not be the subscription\'s own topic');
  }
  return requested;
}

/**
 * Checks every value of `config` (for subscription `name` on `topic`,
 * whose names the caller has validated) and fills in the defaults that do
 * not depend on mode or start position. Throws `InvalidArgumentError` for
 * the first bad value.
 */
export function parseSubscriptionConfig(topic: string, name: string, config: SubscriptionConfig | undefined): RequestedSubscriptionSettings {
  const mode = enumSetting('config.mode', 'SubscriptionMode', config?.mode ?? 0, modes, subscriptionModeToJSON);
  const startPosition = enumSetting('config.start_position', 'StartPosition', config?.startPosition ?? 0, startPositions, startPositionToJSON);
  const startTimeMs = config?.startTimeMs ?? 0;
  if (!Number.isSafeInteger(startTimeMs) || startTimeMs < 0) {
    throw invalid('config.start_time_ms', startTimeMs, 'must be a time in Unix ms (not negative)', 0);
  }
  return {
    mode,
    startPosition,
    startTimeMs,
    ackTimeoutMs: integerSetting(
      'config.ack_timeout_ms',
      config?.ackTimeoutMs ?? 0,
      subscriptionLimits.minAckTimeoutMs,
      subscriptionLimits.maxAckTimeoutMs,
      subscriptionDefaults.ackTimeoutMs,
    ),
    maxUnackedPerMember: integerSetting(
      'config.max_unacked_per_member',
      config?.maxUnackedPerMember ?? 0,
      1,
      subscriptionLimits.maxUnackedPerMember,
      subscriptionDefaults.maxUnackedPerMember,
    ),
    retryPolicy: parseRetryPolicy(config?.retryPolicy),
    deadLetterTopic: parseDeadLetterTopic(topic, name, config?.deadLetterTopic ?? ''),
    rateLimit: parseRateLimit(config?.rateLimit),
    circuitBreaker: parseCircuitBreaker(config?.circuitBreaker),
  };
}

function complete(requested: RequestedSubscriptionSettings, mode: ResolvedMode, startPosition: ResolvedStartPosition, startTimeMs: number): SubscriptionSettings {
  const { retryPolicy } = requested;
  return {
    ...requested,
    mode,
    startPosition,
    startTimeMs,
    retryPolicy: { ...retryPolicy, retryOrder: retryPolicy.retryOrder ?? subscriptionDefaults.retryOrder(mode) },
  };
}

/**
 * The settings of a new subscription: mode and start position default to
 * PARTITIONED and LATEST; `start_time_ms` is required with (and only
 * allowed with) START_POSITION_TIMESTAMP. INVALID_ARGUMENT otherwise.
 */
export function newSubscriptionSettings(requested: RequestedSubscriptionSettings): SubscriptionSettings {
  const mode = requested.mode ?? subscriptionDefaults.mode;
  const startPosition = requested.startPosition ?? subscriptionDefaults.startPosition;
  const timestamp = startPosition === StartPosition.START_POSITION_TIMESTAMP;
  if (timestamp && requested.startTimeMs === 0) {
    throw invalid('config.start_time_ms', 0, 'is required with START_POSITION_TIMESTAMP: the Unix ms of the first record to deliver');
  }
  if (!timestamp && requested.startTimeMs !== 0) {
    // Most likely the start position was forgotten; starting at LATEST
    // instead of the asked-for time would silently skip or replay records.
    throw invalid('config.start_time_ms', requested.startTimeMs, `is only used with START_POSITION_TIMESTAMP (start_position is ${startPositionToJSON(startPosition)})`);
  }
  return complete(requested, mode, startPosition, requested.startTimeMs);
}

/** Validates and completes the settings of a new subscription in one step. */
export function resolveSubscriptionSettings(topic: string, name: string, config: SubscriptionConfig | undefined): SubscriptionSettings {
  return newSubscriptionSettings(parseSubscriptionConfig(topic, name, config));
}

function cannotChange(field: string, current: string, requested: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `${field} cannot change after creation: it is ${current} (got ${requested}); leave it unset (0) to keep it, or create a new subscription`,
    { metadata: { field, current, got: requested } },
  );
}

/**
 * The settings an update leads to: the request replaces every runtime
 * setting (zero values take defaults, as at creation), while mode, start
 * position and start time are fixed at creation: each must be left unset
 * (kept) or equal the current value, otherwise FAILED_PRECONDITION.
 */
export function updatedSubscriptionSettings(current: SubscriptionSettings, requested: RequestedSubscriptionSettings): SubscriptionSettings {
  if (requested.mode !== undefined && requested.mode !== current.mode) {
    throw cannotChange('config.mode', subscriptionModeToJSON(current.mode), subscriptionModeToJSON(requested.mode));
  }
  if (requested.startPosition !== undefined && requested.startPosition !== current.startPosition) {
    throw cannotChange('config.start_position', startPositionToJSON(current.startPosition), startPositionToJSON(requested.startPosition));
  }
  if (requested.startTimeMs !== 0 && requested.startTimeMs !== current.startTimeMs) {
    throw cannotChange('config.start_time_ms', String(current.startTimeMs), String(requested.startTimeMs));
  }
  return complete(requested, current.mode, current.startPosition, current.startTimeMs);
}

/** `settings` as the contract's `SubscriptionConfig`. */
export function subscriptionConfigMessage(settings: SubscriptionSettings): SubscriptionConfig {
  return {
    ...settings,
    retryPolicy: { ...settings.retryPolicy },
    rateLimit: { ...settings.rateLimit },
    circuitBreaker: { ...settings.circuitBreaker },
  };
}
