import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { BraidError } from '@braid/core';
import { Jitter, RetryOrder, StartPosition, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import {
  newSubscriptionSettings,
  parseSubscriptionConfig,
  resolveSubscriptionSettings,
  subscriptionConfigMessage,
  updatedSubscriptionSettings,
} from './subscription-settings.js';
import type { SubscriptionSettings } from './subscription-settings.js';

/** A `SubscriptionConfig` with any field left out, as `fromPartial` takes it. */
type PartialConfig = Parameters<typeof SubscriptionConfig.fromPartial>[0];

/** An enum value this coordinator does not know, as a newer client might send it (field 1 = mode, 7). */
const unknownEnum = SubscriptionConfig.decode(Buffer.from([0x08, 0x07])).mode;

const defaults: SubscriptionSettings = {
  mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  startPosition: StartPosition.START_POSITION_LATEST,
  startTimeMs: 0,
  ackTimeoutMs: 30_000,
  maxUnackedPerMember: 1000,
  retryPolicy: {
    maxAttempts: 5,
    initialBackoffMs: 1000,
    multiplier: 2,
    maxBackoffMs: 60_000,
    jitter: Jitter.JITTER_FULL,
    retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY,
  },
  deadLetterTopic: 'orders.billing.dlq',
  rateLimit: { recordsPerSecond: 0, burst: 0 },
  circuitBreaker: { enabled: false, failureRatio: 0.5, windowMs: 10_000, minSettlements: 20, cooldownMs: 30_000, probeRecords: 5 },
};

const config = (partial: PartialConfig): SubscriptionConfig => SubscriptionConfig.fromPartial(partial);
const resolve = (partial: PartialConfig, topic = 'orders', name = 'billing'): SubscriptionSettings =>
  resolveSubscriptionSettings(topic, name, config(partial));

function rejection(run: () => unknown): BraidError {
  try {
    run();
  } catch (error) {
    if (error instanceof BraidError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('resolveSubscriptionSettings', () => {
  it('fills every default when the config is missing or all zero', () => {
    expect(resolveSubscriptionSettings('orders', 'billing', undefined)).toEqual(defaults);
    expect(resolve({})).toEqual(defaults);
    // Sub-messages present but all zero are the same as absent.
    expect(resolve({ retryPolicy: {}, rateLimit: {}, circuitBreaker: {} })).toEqual(defaults);
  });

  it('defaults retry_order by mode: BLOCK_KEY when ordered, SKIP for SHARED; an explicit order is kept', () => {
    expect(resolve({ mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED }).retryPolicy.retryOrder).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(resolve({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED }).retryPolicy.retryOrder).toBe(RetryOrder.RETRY_ORDER_SKIP);
    expect(
      resolve({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, retryPolicy: { retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY } }).retryPolicy.retryOrder,
    ).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(resolve({ retryPolicy: { retryOrder: RetryOrder.RETRY_ORDER_SKIP } }).retryPolicy.retryOrder).toBe(RetryOrder.RETRY_ORDER_SKIP);
  });

  it('keeps explicit values, including the bounds', () => {
    const low = resolve({
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_TIMESTAMP,
      startTimeMs: 1_700_000_000_000,
      ackTimeoutMs: 100,
      maxUnackedPerMember: 1,
      retryPolicy: { maxAttempts: 1, initialBackoffMs: 5, multiplier: 1, maxBackoffMs: 5, jitter: Jitter.JITTER_NONE },
      deadLetterTopic: 'parking',
      rateLimit: { recordsPerSecond: 0.5 },
      circuitBreaker: { enabled: true, failureRatio: 1, windowMs: 1, minSettlements: 1, cooldownMs: 1, probeRecords: 1 },
    });
    expect(low).toEqual({
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_TIMESTAMP,
      startTimeMs: 1_700_000_000_000,
      ackTimeoutMs: 100,
      maxUnackedPerMember: 1,
      retryPolicy: { maxAttempts: 1, initialBackoffMs: 5, multiplier: 1, maxBackoffMs: 5, jitter: Jitter.JITTER_NONE, retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY },
      deadLetterTopic: 'parking',
      // A rate below 1/s still bursts one whole record.
      rateLimit: { recordsPerSecond: 0.5, burst: 1 },
      circuitBreaker: { enabled: true, failureRatio: 1, windowMs: 1, minSettlements: 1, cooldownMs: 1, probeRecords: 1 },
    });
    const high = resolve({
      startPosition: StartPosition.START_POSITION_EARLIEST,
      ackTimeoutMs: 12 * 3600 * 1000,
      maxUnackedPerMember: 100_000,
      retryPolicy: { maxAttempts: 1000, multiplier: 10.5, maxBackoffMs: 86_400_000, jitter: Jitter.JITTER_DECORRELATED },
      rateLimit: { recordsPerSecond: 100.2, burst: 7 },
    });
    expect(high).toMatchObject({
      startPosition: StartPosition.START_POSITION_EARLIEST,
      ackTimeoutMs: 43_200_000,
      maxUnackedPerMember: 100_000,
      retryPolicy: { maxAttempts: 1000, initialBackoffMs: 1000, multiplier: 10.5, maxBackoffMs: 86_400_000, jitter: Jitter.JITTER_DECORRELATED },
      rateLimit: { recordsPerSecond: 100.2, burst: 7 },
    });
    expect(resolve({ rateLimit: { recordsPerSecond: 100.2 } }).rateLimit).toEqual({ recordsPerSecond: 100.2, burst: 101 });
  });

  it('accepts a default dead-letter topic of exactly 249 characters and refuses one of 250, suggesting a fix', () => {
    const topic = 'o'.repeat(200);
    // `<topic>.<name>.dlq`: 200 + 1 + name + 4.
    expect(resolveSubscriptionSettings(topic, 's'.repeat(44), undefined).deadLetterTopic).toHaveLength(249);
    const error = rejection(() => resolveSubscriptionSettings(topic, 's'.repeat(45), undefined));
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error.message).toContain('would be 250 characters, over the 249 allowed for a topic name');
    expect(error.message).toContain('use a subscription name of at most 44 characters on this topic, or set config.dead_letter_topic');
    expect(error.metadata).toMatchObject({ field: 'config.dead_letter_topic', got: '250', limit: '249' });
    // With its own dead-letter topic the same subscription is fine.
    expect(resolveSubscriptionSettings(topic, 's'.repeat(45), config({ deadLetterTopic: 'dlq' })).deadLetterTopic).toBe('dlq');
    // On a topic of 245+ characters no subscription name fits: only the explicit topic is suggested.
    const noRoom = rejection(() => resolveSubscriptionSettings('t'.repeat(245), 's', undefined));
    expect(noRoom.message).not.toContain('subscription name of at most');
    expect(noRoom.message).toContain('set config.dead_letter_topic');
  });

  it.each([
    [{ mode: unknownEnum }, 'config.mode is not a known SubscriptionMode: use SUBSCRIPTION_MODE_PARTITIONED (1), SUBSCRIPTION_MODE_KEY_SHARED (2), SUBSCRIPTION_MODE_SHARED (3) or 0 for the default (got 7)', undefined],
    [{ mode: SubscriptionMode.UNRECOGNIZED }, 'config.mode is not a known SubscriptionMode', undefined],
    [{ startPosition: unknownEnum }, 'config.start_position is not a known StartPosition: use START_POSITION_EARLIEST (1), START_POSITION_LATEST (2), START_POSITION_TIMESTAMP (3) or 0 for the default (got 7)', undefined],
    [{ startPosition: StartPosition.START_POSITION_TIMESTAMP }, 'config.start_time_ms is required with START_POSITION_TIMESTAMP: the Unix ms of the first record to deliver (got 0)', undefined],
    [{ startTimeMs: 1_700_000_000_000 }, 'config.start_time_ms is only used with START_POSITION_TIMESTAMP (start_position is START_POSITION_LATEST) (got 1700000000000)', undefined],
    [{ startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: -1 }, 'config.start_time_ms must be a time in Unix ms (not negative) (got -1)', '0'],
    [{ ackTimeoutMs: -1 }, 'config.ack_timeout_ms must be between 100 and 43200000, or 0 for the default 30000 (got -1)', '100'],
    [{ ackTimeoutMs: 99 }, 'config.ack_timeout_ms must be between 100 and 43200000, or 0 for the default 30000 (got 99)', '100'],
    [{ ackTimeoutMs: 43_200_001 }, 'config.ack_timeout_ms must be between 100 and 43200000, or 0 for the default 30000 (got 43200001)', '43200000'],
    [{ maxUnackedPerMember: -1 }, 'config.max_unacked_per_member must be between 1 and 100000, or 0 for the default 1000 (got -1)', '1'],
    [{ maxUnackedPerMember: 100_001 }, 'config.max_unacked_per_member must be between 1 and 100000, or 0 for the default 1000 (got 100001)', '100000'],
    [{ retryPolicy: { maxAttempts: -1 } }, 'config.retry_policy.max_attempts must be between 1 and 1000, or 0 for the default 5 (got -1)', '1'],
    [{ retryPolicy: { maxAttempts: 1001 } }, 'config.retry_policy.max_attempts must be between 1 and 1000, or 0 for the default 5 (got 1001)', '1000'],
    [{ retryPolicy: { initialBackoffMs: -1 } }, 'config.retry_policy.initial_backoff_ms must be a non-negative integer, or 0 for the default 1000 (got -1)', '0'],
    [{ retryPolicy: { maxBackoffMs: -5 } }, 'config.retry_policy.max_backoff_ms must be a non-negative integer, or 0 for the default 60000 (got -5)', '0'],
    [{ retryPolicy: { multiplier: 0.5 } }, 'config.retry_policy.multiplier must be a finite number of at least 1 (1 keeps delays constant), or 0 for the default 2 (got 0.5)', '1'],
    [{ retryPolicy: { multiplier: -2 } }, 'config.retry_policy.multiplier must be a finite number of at least 1', '1'],
    [{ retryPolicy: { multiplier: Number.NaN } }, 'config.retry_policy.multiplier must be a finite number of at least 1 (1 keeps delays constant), or 0 for the default 2 (got NaN)', '1'],
    [{ retryPolicy: { multiplier: Number.POSITIVE_INFINITY } }, '(got Infinity)', '1'],
    [{ retryPolicy: { initialBackoffMs: 5000, maxBackoffMs: 4000 } }, 'config.retry_policy.initial_backoff_ms (5000) must not exceed config.retry_policy.max_backoff_ms (4000)', '4000'],
    [{ retryPolicy: { maxBackoffMs: 500 } }, 'config.retry_policy.initial_backoff_ms (1000, the default) must not exceed config.retry_policy.max_backoff_ms (500)', '500'],
    [{ retryPolicy: { initialBackoffMs: 90_000 } }, 'config.retry_policy.initial_backoff_ms (90000) must not exceed config.retry_policy.max_backoff_ms (60000, the default)', '60000'],
    [{ retryPolicy: { jitter: unknownEnum } }, 'config.retry_policy.jitter is not a known Jitter: use JITTER_NONE (1), JITTER_FULL (2), JITTER_EQUAL (3), JITTER_DECORRELATED (4) or 0 for the default (got 7)', undefined],
    [{ retryPolicy: { retryOrder: unknownEnum } }, 'config.retry_policy.retry_order is not a known RetryOrder: use RETRY_ORDER_BLOCK_KEY (1), RETRY_ORDER_SKIP (2) or 0 for the default (got 7)', undefined],
    [{ deadLetterTopic: 'bad name' }, 'config.dead_letter_topic must be a valid topic name: invalid topic name "bad name": may only contain', undefined],
    [{ deadLetterTopic: '..' }, 'config.dead_letter_topic must be a valid topic name: invalid topic name "..": must not be "." or ".."', undefined],
    [{ deadLetterTopic: 'orders' }, 'config.dead_letter_topic must not be the subscription\'s own topic (got "orders")', undefined],
    [{ rateLimit: { recordsPerSecond: -1 } }, 'config.rate_limit.records_per_second must be between 0 (unlimited) and 1000000000 (got -1)', '0'],
    [{ rateLimit: { recordsPerSecond: 2e9 } }, 'config.rate_limit.records_per_second must be between 0 (unlimited) and 1000000000 (got 2000000000)', '1000000000'],
    [{ rateLimit: { recordsPerSecond: Number.NaN } }, 'config.rate_limit.records_per_second must be between 0 (unlimited) and 1000000000 (got NaN)', '0'],
    [{ rateLimit: { recordsPerSecond: 10, burst: -1 } }, 'config.rate_limit.burst must be a non-negative integer, or 0 for one second\'s worth of records (got -1)', '0'],
    [{ rateLimit: { burst: 10 } }, 'config.rate_limit.burst needs config.rate_limit.records_per_second above 0 (0 is unlimited and takes no burst) (got 10)', undefined],
    [{ circuitBreaker: { failureRatio: -0.1 } }, 'config.circuit_breaker.failure_ratio must be in (0, 1], or 0 for the default 0.5 (got -0.1)', '0'],
    [{ circuitBreaker: { failureRatio: 1.5 } }, 'config.circuit_breaker.failure_ratio must be in (0, 1], or 0 for the default 0.5 (got 1.5)', '1'],
    [{ circuitBreaker: { enabled: true, windowMs: -1 } }, 'config.circuit_breaker.window_ms must be a non-negative integer, or 0 for the default 10000 (got -1)', '0'],
    [{ circuitBreaker: { minSettlements: -1 } }, 'config.circuit_breaker.min_settlements must be a non-negative integer, or 0 for the default 20 (got -1)', '0'],
    [{ circuitBreaker: { cooldownMs: -1 } }, 'config.circuit_breaker.cooldown_ms must be a non-negative integer, or 0 for the default 30000 (got -1)', '0'],
    [{ circuitBreaker: { probeRecords: -1 } }, 'config.circuit_breaker.probe_records must be a non-negative integer, or 0 for the default 5 (got -1)', '0'],
  ] as const)('rejects %j with INVALID_ARGUMENT naming the field, limit and value', (partial, message, limit) => {
    const error = rejection(() => resolve(partial as PartialConfig));
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(message);
    expect(error.metadata['field']).toMatch(/^config\./);
    expect(error.message.startsWith(error.metadata['field'] ?? '?')).toBe(true);
    expect(error.metadata['limit']).toBe(limit);
  });

  it('rejects values a client can only build in code (fractions) instead of storing them', () => {
    expect(rejection(() => resolve({ ackTimeoutMs: 1000.5 })).message).toBe(
      'config.ack_timeout_ms must be an integer between 100 and 43200000, or 0 for the default 30000 (got 1000.5)',
    );
    expect(rejection(() => resolve({ circuitBreaker: { probeRecords: 1.5 } })).metadata['field']).toBe('config.circuit_breaker.probe_records');
  });

  it('survives the contract: the config message carries every resolved setting through encode and decode', () => {
    const settings = resolve({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, rateLimit: { recordsPerSecond: 2.5 }, circuitBreaker: { enabled: true } });
    const decoded = SubscriptionConfig.decode(SubscriptionConfig.encode(subscriptionConfigMessage(settings)).finish());
    expect(decoded).toEqual(subscriptionConfigMessage(settings));
    expect(resolveSubscriptionSettings('orders', 'billing', decoded)).toEqual(settings);
  });
});

describe('updatedSubscriptionSettings', () => {
  const current = resolve({
    mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
    startPosition: StartPosition.START_POSITION_TIMESTAMP,
    startTimeMs: 1_700_000_000_000,
    ackTimeoutMs: 5000,
    rateLimit: { recordsPerSecond: 10 },
  });
  const update = (partial: PartialConfig): SubscriptionSettings =>
    updatedSubscriptionSettings(current, parseSubscriptionConfig('orders', 'billing', config(partial)));

  it('keeps mode, start position and start time when left unset or repeated, and replaces everything else', () => {
    const updated = update({ maxUnackedPerMember: 50, retryPolicy: { maxAttempts: 3 } });
    expect(updated).toEqual({
      ...defaults,
      mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
      startPosition: StartPosition.START_POSITION_TIMESTAMP,
      startTimeMs: 1_700_000_000_000,
      // Replaced: left at zero, so back to the defaults.
      ackTimeoutMs: 30_000,
      rateLimit: { recordsPerSecond: 0, burst: 0 },
      maxUnackedPerMember: 50,
      // The retry order defaults by the kept mode (SHARED).
      retryPolicy: { ...defaults.retryPolicy, maxAttempts: 3, retryOrder: RetryOrder.RETRY_ORDER_SKIP },
    });
    const repeated = update({
      mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
      startPosition: StartPosition.START_POSITION_TIMESTAMP,
      startTimeMs: 1_700_000_000_000,
      ackTimeoutMs: 5000,
      rateLimit: { recordsPerSecond: 10 },
    });
    expect(repeated).toEqual(current);
  });

  it.each([
    [{ mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED }, 'config.mode cannot change after creation: it is SUBSCRIPTION_MODE_SHARED (got SUBSCRIPTION_MODE_PARTITIONED)'],
    [{ startPosition: StartPosition.START_POSITION_EARLIEST }, 'config.start_position cannot change after creation: it is START_POSITION_TIMESTAMP (got START_POSITION_EARLIEST)'],
    [{ startTimeMs: 1 }, 'config.start_time_ms cannot change after creation: it is 1700000000000 (got 1)'],
  ] as const)('answers %j with FAILED_PRECONDITION', (partial, message) => {
    const error = rejection(() => update(partial));
    expect(error.code).toBe(Status.FAILED_PRECONDITION);
    expect(error.message).toContain(message);
    expect(error.message).toContain('leave it unset (0) to keep it');
  });

  it('still rejects bad values with INVALID_ARGUMENT', () => {
    expect(rejection(() => update({ mode: unknownEnum })).code).toBe(Status.INVALID_ARGUMENT);
    expect(rejection(() => update({ ackTimeoutMs: 50 })).code).toBe(Status.INVALID_ARGUMENT);
  });

  it('needs no start time on a TIMESTAMP subscription: unset keeps it', () => {
    expect(update({ startPosition: StartPosition.START_POSITION_TIMESTAMP }).startTimeMs).toBe(1_700_000_000_000);
    // At creation the same request is incomplete.
    expect(rejection(() => newSubscriptionSettings(parseSubscriptionConfig('orders', 'billing', config({ startPosition: StartPosition.START_POSITION_TIMESTAMP })))).code).toBe(
      Status.INVALID_ARGUMENT,
    );
  });
});
