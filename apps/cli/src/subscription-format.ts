/**
 * How `braid subscription list|describe|seek` print subscriptions: aligned
 * columns with one header line (`formatTable`), enum values as the lower-case
 * names the options accept, zero limits spelled out (`unlimited`, `off`).
 */
import { CircuitState, Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/client';
import type { DescribeSubscriptionResponse, PartitionPosition, Subscription, SubscriptionConfig } from '@braid/client';
import { formatTable } from './topic-format.js';

/** `partitioned`, `key_shared`, `shared` or `default`. */
export function modeName(mode: SubscriptionMode): string {
  switch (mode) {
    case SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED:
      return 'partitioned';
    case SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED:
      return 'key_shared';
    case SubscriptionMode.SUBSCRIPTION_MODE_SHARED:
      return 'shared';
    default:
      return 'default';
  }
}

/** `earliest`, `latest`, the start time (ISO 8601) or `default`. */
export function startName(config: Pick<SubscriptionConfig, 'startPosition' | 'startTimeMs'>): string {
  switch (config.startPosition) {
    case StartPosition.START_POSITION_EARLIEST:
      return 'earliest';
    case StartPosition.START_POSITION_LATEST:
      return 'latest';
    case StartPosition.START_POSITION_TIMESTAMP:
      return new Date(config.startTimeMs).toISOString();
    default:
      return 'default';
  }
}

function jitterName(jitter: Jitter): string {
  switch (jitter) {
    case Jitter.JITTER_NONE:
      return 'none';
    case Jitter.JITTER_FULL:
      return 'full';
    case Jitter.JITTER_EQUAL:
      return 'equal';
    case Jitter.JITTER_DECORRELATED:
      return 'decorrelated';
    default:
      return 'default';
  }
}

function retryOrderName(order: RetryOrder): string {
  switch (order) {
    case RetryOrder.RETRY_ORDER_BLOCK_KEY:
      return 'block_key';
    case RetryOrder.RETRY_ORDER_SKIP:
      return 'skip';
    default:
      return 'default';
  }
}

function circuitStateName(state: CircuitState): string {
  switch (state) {
    case CircuitState.CIRCUIT_STATE_CLOSED:
      return 'closed';
    case CircuitState.CIRCUIT_STATE_OPEN:
      return 'open';
    case CircuitState.CIRCUIT_STATE_HALF_OPEN:
      return 'half_open';
    default:
      return '-';
  }
}

const orDefault = (n: number | undefined): string => (n ? String(n) : 'default');

/** The table of `braid subscription list`. */
export function formatSubscriptionList(subscriptions: readonly Subscription[]): string {
  return formatTable(
    ['TOPIC', 'NAME', 'MODE', 'START', 'ACK_TIMEOUT_MS', 'MAX_ATTEMPTS', 'DEAD_LETTER_TOPIC'],
    subscriptions.map((s) => {
      const c = s.config;
      return [
        s.topic,
        s.name,
        modeName(c?.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED),
        c ? startName(c) : 'default',
        orDefault(c?.ackTimeoutMs),
        orDefault(c?.retryPolicy?.maxAttempts),
        c?.deadLetterTopic || 'default',
      ];
    }),
  );
}

/** Settings, per-partition progress and members, as `braid subscription describe` prints them. */
export function formatSubscriptionDescription(described: DescribeSubscriptionResponse): string {
  const s = described.subscription;
  const c = s?.config;
  const retry = c?.retryPolicy;
  const rate = c?.rateLimit;
  const breaker = c?.circuitBreaker;
  const fields: [string, string][] = [
    ['Topic', s?.topic ?? '?'],
    ['Subscription', s?.name ?? '?'],
    ['Created', s?.createdAtMs ? new Date(s.createdAtMs).toISOString() : '?'],
    ['Mode', modeName(c?.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED)],
    ['Start', c ? startName(c) : 'default'],
    ['Ack timeout ms', orDefault(c?.ackTimeoutMs)],
    ['Max unacked per member', orDefault(c?.maxUnackedPerMember)],
    ['Max attempts', orDefault(retry?.maxAttempts)],
    [
      'Backoff',
      retry
        ? `${orDefault(retry.initialBackoffMs)} ms x${orDefault(retry.multiplier)} up to ${orDefault(retry.maxBackoffMs)} ms, jitter ${jitterName(retry.jitter)}`
        : 'default',
    ],
    ['Retry order', retryOrderName(retry?.retryOrder ?? RetryOrder.RETRY_ORDER_UNSPECIFIED)],
    ['Dead-letter topic', c?.deadLetterTopic || 'default'],
    ['Rate limit', rate?.recordsPerSecond ? `${rate.recordsPerSecond}/s (burst ${orDefault(rate.burst)})` : 'unlimited'],
    [
      'Circuit breaker',
      breaker?.enabled
        ? `on (failure ratio ${breaker.failureRatio} over ${breaker.windowMs} ms, cooldown ${breaker.cooldownMs} ms)`
        : 'off',
    ],
    ['Circuit state', circuitStateName(described.circuitState)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  const header = fields.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${value}\n`).join('');
  const partitions = formatTable(
    ['PARTITION', 'COMMITTED', 'HIGH_WATERMARK', 'LAG', 'UNACKED', 'PENDING_RETRIES'],
    described.partitions.map((p) => [
      String(p.partition),
      String(p.committedOffset),
      String(p.highWatermark),
      String(p.lag),
      String(p.unacked),
      String(p.pendingRetries),
    ]),
  );
  const members =
    described.members.length === 0
      ? 'No members connected.\n'
      : formatTable(
          ['MEMBER', 'BROKER', 'CONNECTED', 'UNACKED', 'CREDIT', 'PARTITIONS'],
          described.members.map((m) => [
            m.memberId,
            m.brokerId || '-',
            m.connectedAtMs ? new Date(m.connectedAtMs).toISOString() : '-',
            String(m.unacked),
            String(m.creditRecords),
            m.partitions.length > 0 ? m.partitions.join(',') : '-',
          ]),
        );
  return `${header}\n${partitions}\n${members}`;
}

/** One `partition=P offset=O` line per position, as `braid subscription seek` prints them. */
export function formatPositions(positions: readonly PartitionPosition[]): string {
  return positions.map((p) => `partition=${p.partition} offset=${p.offset}\n`).join('');
}
