import { describe, expect, it } from 'vitest';
import { CircuitState, Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/client';
import type { DescribeSubscriptionResponse, SubscriptionConfig } from '@braid/client';
import { formatPositions, formatSubscriptionDescription, formatSubscriptionList, startName } from './subscription-format.js';

const config: SubscriptionConfig = {
  mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
  startPosition: StartPosition.START_POSITION_EARLIEST,
  startTimeMs: 0,
  ackTimeoutMs: 30_000,
  maxUnackedPerMember: 1_000,
  retryPolicy: { maxAttempts: 5, initialBackoffMs: 1_000, multiplier: 2, maxBackoffMs: 60_000, jitter: Jitter.JITTER_FULL, retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY },
  deadLetterTopic: 'orders.billing.dlq',
  rateLimit: { recordsPerSecond: 100, burst: 100 },
  circuitBreaker: { enabled: false, failureRatio: 0.5, windowMs: 10_000, minSettlements: 20, cooldownMs: 30_000, probeRecords: 5 },
};

describe('subscription formats', () => {
  it('lists subscriptions as a table', () => {
    expect(formatSubscriptionList([{ topic: 'orders', name: 'billing', config, createdAtMs: 0 }])).toBe(
      'TOPIC   NAME     MODE        START     ACK_TIMEOUT_MS  MAX_ATTEMPTS  DEAD_LETTER_TOPIC\n' +
        'orders  billing  key_shared  earliest  30000           5             orders.billing.dlq\n',
    );
  });

  it('names a time start as ISO 8601', () => {
    expect(startName({ startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: Date.UTC(2024, 0, 2) })).toBe('2024-01-02T00:00:00.000Z');
  });

  it('describes settings, partitions and members', () => {
    const described: DescribeSubscriptionResponse = {
      subscription: { topic: 'orders', name: 'billing', config, createdAtMs: Date.UTC(2024, 0, 1) },
      partitions: [
        { partition: 0, committedOffset: 10, highWatermark: 15, lag: 5, unacked: 2, pendingRetries: 1 },
        { partition: 1, committedOffset: 7, highWatermark: 7, lag: 0, unacked: 0, pendingRetries: 0 },
      ],
      members: [{ memberId: 'm-1', brokerId: 'b-1', connectedAtMs: Date.UTC(2024, 0, 1, 1), unacked: 2, creditRecords: 998, partitions: [] }],
      circuitState: CircuitState.CIRCUIT_STATE_CLOSED,
    };
    expect(formatSubscriptionDescription(described)).toBe(
      [
        'Topic:                   orders',
        'Subscription:            billing',
        'Created:                 2024-01-01T00:00:00.000Z',
        'Mode:                    key_shared',
        'Start:                   earliest',
        'Ack timeout ms:          30000',
        'Max unacked per member:  1000',
        'Max attempts:            5',
        'Backoff:                 1000 ms x2 up to 60000 ms, jitter full',
        'Retry order:             block_key',
        'Dead-letter topic:       orders.billing.dlq',
        'Rate limit:              100/s (burst 100)',
        'Circuit breaker:         off',
        'Circuit state:           closed',
        '',
        'PARTITION  COMMITTED  HIGH_WATERMARK  LAG  UNACKED  PENDING_RETRIES',
        '0          10         15              5    2        1',
        '1          7          7               0    0        0',
        '',
        'MEMBER  BROKER  CONNECTED                 UNACKED  CREDIT  PARTITIONS',
        'm-1     b-1     2024-01-01T01:00:00.000Z  2        998     -',
        '',
      ].join('\n'),
    );
  });

  it('prints seek positions one per line', () => {
    expect(formatPositions([{ partition: 0, offset: 5 }, { partition: 3, offset: 0 }])).toBe('partition=0 offset=5\npartition=3 offset=0\n');
  });
});
