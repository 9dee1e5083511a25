/**
 * Braid's metric instruments, on the OpenTelemetry metrics API: one
 * function per app area creates its instruments, so that names, units and
 * descriptions live in one place (the README's "Metrics" table lists
 * them). The messaging semantic conventions define metrics for clients
 * only (`messaging.client.sent.messages`, `messaging.process.duration`,
 * ...); what a broker or dlq-admin counts has no convention and is named
 * `braid.*`, in UCUM units (`s`, `By`, `{record}`) with the conventions'
 * attributes (`messaging.destination.name`, `messaging.consumer.group.name`,
 * `messaging.destination.partition.id`, `error.type`).
 *
 * The API has no proxy meter provider: a meter taken before an SDK is
 * registered stays a no-op for good. Create instruments after the SDK
 * starts (Braid's apps start it before anything else). With no SDK every
 * call here is an empty function.
 */
import { ValueType, createNoopMeter, metrics } from '@opentelemetry/api';
import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, Observable, ObservableGauge } from '@opentelemetry/api';
import { attr } from './messaging.js';

/** Metric names, in one place. */
export const metricNames = {
  // Broker: counters.
  published: 'braid.broker.published.records',
  delivered: 'braid.broker.delivered.records',
  acknowledged: 'braid.broker.acknowledged.records',
  nacked: 'braid.broker.nacked.records',
  rejected: 'braid.broker.rejected.records',
  expired: 'braid.broker.expired.records',
  deadLettered: 'braid.broker.dead_lettered.records',
  rateLimitWaits: 'braid.broker.rate_limit.waits',
  rateLimitWaitTime: 'braid.broker.rate_limit.wait_time',
  // Broker: histograms.
  publishDuration: 'braid.broker.publish.duration',
  endToEndDuration: 'braid.broker.end_to_end.duration',
  // Broker: gauges.
  consumerLag: 'braid.broker.consumer.lag',
  unsettled: 'braid.broker.unsettled.records',
  pendingRetries: 'braid.broker.pending_retries',
  creditRecords: 'braid.broker.credit.records',
  members: 'braid.broker.members',
  storageBytes: 'braid.broker.storage.bytes',
  unflushedBytes: 'braid.broker.storage.unflushed_bytes',
  tailCacheBytes: 'braid.broker.storage.tail_cache_bytes',
  subscribeQueuedMessages: 'braid.broker.subscribe.queued.messages',
  subscribeQueuedBytes: 'braid.broker.subscribe.queued.bytes',
  // Client SDK (the messaging semantic conventions' client metrics).
  clientSent: 'messaging.client.sent.messages',
  clientConsumed: 'messaging.client.consumed.messages',
  processDuration: 'messaging.process.duration',
  // dlq-admin.
  dlqDepth: 'braid.dlq.depth',
  dlqOldestAge: 'braid.dlq.oldest.age',
  // Coordinator.
  coordinatorLeader: 'braid.coordinator.leader',
  coordinatorBrokers: 'braid.coordinator.brokers',
  coordinatorPartitions: 'braid.coordinator.partitions',
  coordinatorTopics: 'braid.coordinator.topics',
  coordinatorSubscriptions: 'braid.coordinator.subscriptions',
  coordinatorMetadataVersion: 'braid.coordinator.metadata.version',
} as const;

/**
 * Histogram bucket boundaries for durations in seconds, as the messaging
 * semantic conventions advise (5 ms to 10 s); the SDK's default buckets
 * are meant for milliseconds.
 */
export const durationBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Instrumentation scope of Braid's meters. */
const meterName = 'braid';

function defaultMeter(): Meter {
  return metrics.getMeter(meterName);
}

function counter(meter: Meter, name: string, unit: string, description: string): Counter {
  return meter.createCounter(name, { unit, description, valueType: ValueType.INT });
}

function seconds(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { unit: 's', description, valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: [...durationBuckets] } });
}

function gauge(meter: Meter, name: string, unit: string, description: string): ObservableGauge {
  return meter.createObservableGauge(name, { unit, description, valueType: ValueType.INT });
}

/** What observes gauges: registers a batch callback, returns how to remove it. */
export type ObserveGauges = (callback: BatchObservableCallback) => () => void;

/** A stable key of an attribute set. */
function attributesKey(attributes: Attributes): string {
  return JSON.stringify(Object.keys(attributes).sort().map((key) => [key, attributes[key]]));
}

/**
 * `callback`, plus a 0 for every series it reported last time and not now.
 * The SDK keeps exporting an asynchronous instrument's last value for an
 * attribute set that a callback stopped reporting (cumulative temporality
 * merges it in), so a subscription deleted or a partition now led by
 * another broker would show its last lag forever, and a sum across brokers
 * would count it twice. Every gauge here means "how much of it is here",
 * for which 0 is the truth once it is gone.
 */
function zeroingGone(callback: BatchObservableCallback): BatchObservableCallback {
  let previous = new Map<Observable, Map<string, Attributes>>();
  return async (result) => {
    const current = new Map<Observable, Map<string, Attributes>>();
    await callback({
      observe: (observable, value, attributes = {}) => {
        let series = current.get(observable);
        if (!series) {
          series = new Map();
          current.set(observable, series);
        }
        series.set(attributesKey(attributes), attributes);
        result.observe(observable, value, attributes);
      },
    });
    for (const [observable, series] of previous) {
      const now = current.get(observable);
      for (const [key, attributes] of series) if (!now?.has(key)) result.observe(observable, 0, attributes);
    }
    previous = current;
  };
}

function observer(meter: Meter, observables: Observable[]): ObserveGauges {
  return (callback) => {
    const reporting = zeroingGone(callback);
    meter.addBatchObservableCallback(reporting, observables);
    return () => { meter.removeBatchObservableCallback(reporting, observables); };
  };
}

/** The broker's instruments (see `brokerMetrics`). */
export interface BrokerMetrics {
  /**
   * False when the instruments are the API's no-ops (no SDK registered):
   * hooks that do work of their own to measure (a clock read, a lookup per
   * record) skip it, so that metrics that are off cost nothing.
   */
  readonly enabled: boolean;
  /** Records appended to partition logs, once durable (`destination`, `partition`); refused ones with `error.type`. */
  readonly published: Counter;
  /** Publish requests from receipt to durable, in seconds (`destination`, `error.type` on failure). */
  readonly publishDuration: Histogram;
  /** Records handed to members, redeliveries included (`destination`, `consumer group`, `partition`). */
  readonly delivered: Counter;
  /** Records acknowledged by members. */
  readonly acknowledged: Counter;
  /** Records nacked by members (failed attempts; handed-back records are not counted). */
  readonly nacked: Counter;
  /** Records rejected by members (dead-lettered at once). */
  readonly rejected: Counter;
  /** Failed attempts without a settle: lease expired, or the member's stream broke (`error.type`). */
  readonly expired: Counter;
  /** Records written to a dead-letter topic and settled. */
  readonly deadLettered: Counter;
  /** Publish time of a record to its acknowledgement, in seconds (`destination`, `consumer group`). */
  readonly endToEndDuration: Histogram;
  /** Times dispatch paused because the subscription's rate limit had no token. */
  readonly rateLimitWaits: Counter;
  /** Seconds dispatch was paused by the rate limit. */
  readonly rateLimitWaitTime: Counter;
  /** Registers the callback that reports the gauges below at collection time. */
  readonly observe: ObserveGauges;
  /** Records behind the subscription's cursor: high watermark minus committed offset, per partition. */
  readonly consumerLag: ObservableGauge;
  /** Records out with members, leases running, per partition. */
  readonly unsettled: ObservableGauge;
  /** Records waiting to be delivered again (queued, or waiting for a retry or their delivery time), per partition. */
  readonly pendingRetries: ObservableGauge;
  /** Record credit granted by members and not used yet, per subscription. */
  readonly creditRecords: ObservableGauge;
  /** Members connected, per subscription. */
  readonly members: ObservableGauge;
  /** Stored bytes of the partitions' durable records, per partition. */
  readonly storageBytes: ObservableGauge;
  /** Bytes accepted for writing but not yet durable (the memory watermark applies to these). */
  readonly unflushedBytes: ObservableGauge;
  /** Bytes of recent records held in memory for readers (the tail cache). */
  readonly tailCacheBytes: ObservableGauge;
  /** Messages queued in Subscribe streams on their way to members. */
  readonly subscribeQueuedMessages: ObservableGauge;
  /** Encoded bytes of those messages. */
  readonly subscribeQueuedBytes: ObservableGauge;
}

/** Creates the broker's instruments on `meter` (default: the global meter provider's `braid` meter). */
export function brokerMetrics(meter: Meter = defaultMeter()): BrokerMetrics {
  const gauges = {
    consumerLag: gauge(meter, metricNames.consumerLag, '{record}', 'Records of the partition not yet settled by the subscription: high watermark minus committed offset'),
    unsettled: gauge(meter, metricNames.unsettled, '{record}', 'Records out with members whose leases run'),
    pendingRetries: gauge(meter, metricNames.pendingRetries, '{record}', 'Records waiting to be delivered again: queued, or waiting for a retry or their delivery time'),
    creditRecords: gauge(meter, metricNames.creditRecords, '{record}', 'Record credit granted by the members of the subscription and not used yet'),
    members: gauge(meter, metricNames.members, '{member}', 'Members of the subscription connected to this broker'),
    storageBytes: gauge(meter, metricNames.storageBytes, 'By', 'Stored bytes of the partition\'s durable records'),
    unflushedBytes: gauge(meter, metricNames.unflushedBytes, 'By', 'Bytes accepted for writing but not yet durable'),
    tailCacheBytes: gauge(meter, metricNames.tailCacheBytes, 'By', 'Bytes of recent records held in memory for readers (the tail cache)'),
    subscribeQueuedMessages: gauge(meter, metricNames.subscribeQueuedMessages, '{message}', 'Messages queued in Subscribe streams on their way to members'),
    subscribeQueuedBytes: gauge(meter, metricNames.subscribeQueuedBytes, 'By', 'Encoded bytes of the messages queued in Subscribe streams'),
  };
  return {
    enabled: meter !== createNoopMeter(),
    published: counter(meter, metricNames.published, '{record}', 'Records appended to partition logs, counted once durable; refused records carry error.type'),
    publishDuration: seconds(meter, metricNames.publishDuration, 'Publish requests from receipt until their records are durable'),
    delivered: counter(meter, metricNames.delivered, '{record}', 'Records handed to members, redeliveries included'),
    acknowledged: counter(meter, metricNames.acknowledged, '{record}', 'Records acknowledged by members'),
    nacked: counter(meter, metricNames.nacked, '{record}', 'Records nacked by members (failed attempts)'),
    rejected: counter(meter, metricNames.rejected, '{record}', 'Records rejected by members as poison'),
    expired: counter(meter, metricNames.expired, '{record}', 'Failed attempts without a settle: the lease expired or the member\'s stream broke'),
    deadLettered: counter(meter, metricNames.deadLettered, '{record}', 'Records written to the subscription\'s dead-letter topic and settled'),
    endToEndDuration: seconds(meter, metricNames.endToEndDuration, 'Publish time of a record until its acknowledgement'),
    rateLimitWaits: counter(meter, metricNames.rateLimitWaits, '{wait}', 'Times dispatch paused because the subscription\'s rate limit had no token'),
    rateLimitWaitTime: meter.createCounter(metricNames.rateLimitWaitTime, { unit: 's', description: 'Time dispatch was paused by the subscription\'s rate limit', valueType: ValueType.DOUBLE }),
    observe: observer(meter, Object.values(gauges)),
    ...gauges,
  };
}

/**
 * The client SDK's instruments, per the messaging semantic conventions:
 * `messaging.client.sent.messages` (records a producer had acknowledged,
 * or failed with `error.type`), `messaging.client.consumed.messages`
 * (records the application received) and `messaging.process.duration`
 * (receipt to settle, `error.type` for nack and reject).
 */
export interface ClientMetrics {
  /** False without a metrics SDK: the SDK then skips its clock reads and attribute objects. */
  readonly enabled: boolean;
  sent(topic: string, records: number, errorType?: string): void;
  consumed(topic: string, subscription: string): void;
  processed(topic: string, subscription: string, seconds: number, errorType?: string): void;
}

/**
 * Creates the client SDK's instruments on `meter` (default: the global
 * provider's `braid` meter, taken when a producer or consumer is created:
 * register the application's metrics SDK before creating them).
 */
export function clientMetrics(meter: Meter = defaultMeter()): ClientMetrics {
  const enabled = meter !== createNoopMeter();
  const sent = counter(meter, metricNames.clientSent, '{message}', 'Records a producer published: acknowledged, or failed with error.type');
  const consumed = counter(meter, metricNames.clientConsumed, '{message}', 'Records the application received from a consumer');
  const processDuration = seconds(meter, metricNames.processDuration, 'A record from the application receiving it until it was settled');
  const destination = (topic: string, errorType?: string): Attributes => ({
    [attr.system]: 'braid',
    [attr.operationName]: 'send',
    [attr.destination]: topic,
    ...(errorType === undefined ? {} : { [attr.errorType]: errorType }),
  });
  return {
    enabled,
    sent: (topic, records, errorType) => { if (enabled) sent.add(records, destination(topic, errorType)); },
    consumed: (topic, subscription) => {
      if (enabled) consumed.add(1, { [attr.system]: 'braid', [attr.operationName]: 'process', [attr.destination]: topic, [attr.consumerGroup]: subscription });
    },
    processed: (topic, subscription, duration, errorType) => {
      if (!enabled) return;
      processDuration.record(duration, {
        [attr.system]: 'braid',
        [attr.operationName]: 'process',
        [attr.destination]: topic,
        [attr.consumerGroup]: subscription,
        ...(errorType === undefined ? {} : { [attr.errorType]: errorType }),
      });
    },
  };
}

/** dlq-admin's instruments (see `dlqAdminMetrics`). */
export interface DlqAdminMetrics {
  /** Registers the callback that reports the gauges at collection time. */
  readonly observe: ObserveGauges;
  /** Records in a dead-letter queue (`destination` = origin topic, `consumer group` = subscription). */
  readonly depth: ObservableGauge;
  /** Age of the queue's oldest record, in seconds (0 when empty). */
  readonly oldestAge: ObservableGauge;
}

/** Creates dlq-admin's instruments on `meter` (default: the global meter provider's `braid` meter). */
export function dlqAdminMetrics(meter: Meter = defaultMeter()): DlqAdminMetrics {
  const depth = gauge(meter, metricNames.dlqDepth, '{record}', 'Records in the dead-letter queue of a subscription');
  const oldestAge = meter.createObservableGauge(metricNames.dlqOldestAge, { unit: 's', description: 'Age of the oldest record in the dead-letter queue (0 when empty)', valueType: ValueType.DOUBLE });
  return { observe: observer(meter, [depth, oldestAge]), depth, oldestAge };
}

/** The coordinator's instruments (see `coordinatorMetrics`). */
export interface CoordinatorMetrics {
  /** Registers the callback that reports the gauges at collection time. */
  readonly observe: ObserveGauges;
  /** 1 while this coordinator serves as the leader, 0 on standby. */
  readonly leader: ObservableGauge;
  /** Registered brokers by `braid.broker.state` (`live`, `down`). */
  readonly brokers: ObservableGauge;
  /** Partitions of all topics by `braid.partition.state` (`available`: the leader's lease is live; `unavailable`). */
  readonly partitions: ObservableGauge;
  /** Topics. */
  readonly topics: ObservableGauge;
  /** Subscriptions. */
  readonly subscriptions: ObservableGauge;
  /** Version of the cluster metadata (grows with every change). */
  readonly metadataVersion: ObservableGauge;
}

/** Creates the coordinator's instruments on `meter` (default: the global meter provider's `braid` meter). */
export function coordinatorMetrics(meter: Meter = defaultMeter()): CoordinatorMetrics {
  const gauges = {
    leader: gauge(meter, metricNames.coordinatorLeader, '1', '1 while this coordinator serves as the leader, 0 on standby'),
    brokers: gauge(meter, metricNames.coordinatorBrokers, '{broker}', 'Registered brokers by state (braid.broker.state: live, down)'),
    partitions: gauge(meter, metricNames.coordinatorPartitions, '{partition}', 'Partitions by state (braid.partition.state: available, unavailable: their leader\'s lease lapsed)'),
    topics: gauge(meter, metricNames.coordinatorTopics, '{topic}', 'Topics'),
    subscriptions: gauge(meter, metricNames.coordinatorSubscriptions, '{subscription}', 'Subscriptions'),
    metadataVersion: gauge(meter, metricNames.coordinatorMetadataVersion, '1', 'Version of the cluster metadata; grows with every change'),
  };
  return { observe: observer(meter, Object.values(gauges)), ...gauges };
}

/** One dead-letter queue as dlq-admin sees it. */
export interface DeadLetterQueueFigures {
  /** The origin topic. */
  topic: string;
  /** The failing subscription. */
  subscription: string;
  /** Records in the queue. */
  depth: number;
  /** Age of its oldest record (ms; 0 when empty). */
  oldestAgeMs: number;
}

/**
 * Reports the depth and oldest age of dead-letter queues at every
 * collection, from `queues()` (read at collection time, so nothing is
 * counted on dlq-admin's paths). Returns how to stop.
 */
export function observeDeadLetterQueues(queues: () => Iterable<DeadLetterQueueFigures>, instruments: DlqAdminMetrics = dlqAdminMetrics()): () => void {
  return instruments.observe((result) => {
    for (const queue of queues()) {
      const attributes = { [attr.destination]: queue.topic, [attr.consumerGroup]: queue.subscription };
      result.observe(instruments.depth, queue.depth, attributes);
      result.observe(instruments.oldestAge, queue.oldestAgeMs / 1000, attributes);
    }
  });
}
