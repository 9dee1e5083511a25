/**
 * The publish path: validate a batch, pick each record's partition, check
 * leadership, epoch and the memory watermark, and append the records to the
 * partition logs (group-committed). `start()` does everything that can wait
 * (metadata lookups) and then hands the records to the logs synchronously,
 * returning a promise that resolves once they are durable; a stream that
 * calls `start()` for its requests one after another therefore keeps their
 * order per partition while their durability overlaps.
 *
 * Records for partitions led elsewhere get NOT_LEADER, unless a
 * `forwarder` is given (forwarding mode): then they are published at
 * their leader and its answer is merged in (`publish-forwarder.ts`).
 */
import {
  InvalidArgumentError,
  MemoryPressureError,
  NotLeaderError,
  PartitionOutOfRangeError,
  RecordTooLargeError,
  StaleEpochError,
} from '@braid/core';
import type { Clock } from '@braid/core';
import { RoundRobin, partitionForKey } from '@braid/partitioning';
import type { PublishRequest, PublishResponse, PublishResult } from '@braid/proto';
import type { LogStore } from '@braid/storage';
import type { MetadataCache, TopicView } from './metadata-cache.js';
import { assertLeads } from './partition-leadership.js';
import type { PublishForwarder } from './publish-forwarder.js';
import { brokerMetrics, endWhenSettled, linkedSpanContext, sampledTraceparent, startPublishSpan, tracingEnabled } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';

/** Most producer contexts a `publish` span links to (a batch may hold thousands of records). */
const maxLinks = 128;
import { PublishMetrics } from './publish-metrics.js';
import { encodeStoredRecord, recordSize } from './record-codec.js';
import type { TopicResolver } from './topic-resolver.js';

/** Options of `PublishHandler`. */
export interface PublishHandlerOptions {
  brokerId: string;
  store: LogStore;
  cache: MetadataCache;
  topics: TopicResolver;
  clock: Clock;
  /** Refuse publishes while more than this many bytes are accepted but not durable. */
  memoryWatermarkBytes: number;
  /** Told after records became durable (wakes dispatch). */
  onAppended?: (topicId: number, partition: number) => void;
  /** Forwarding mode: publish records of partitions led elsewhere at their leader (see the file comment). */
  forwarder?: PublishForwarder;
  /** The broker's instruments (default: on the global meter provider). */
  metrics?: BrokerMetrics;
}

/** Suggested wait before retrying after memory pressure (ms). */
const memoryPressureRetryAfterMs = 100;

interface PartitionGroup {
  partition: number;
  indexes: number[];
  payloads: Buffer[];
  /** The leader's address when the group is forwarded there. */
  forwardTo?: string;
}

/** See the file comment. */
export class PublishHandler {
  private readonly roundRobin = new Map<number, RoundRobin>();
  private readonly metrics: PublishMetrics;

  constructor(private readonly options: PublishHandlerOptions) {
    this.metrics = new PublishMetrics(options.metrics ?? brokerMetrics());
  }

  /**
   * Validates `request` and hands its records to the logs. Resolves (after
   * any metadata lookup) once the records have their offsets; `durable`
   * resolves when they are acknowledged-safe. Rejects on invalid input.
   */
  async start(request: PublishRequest): Promise<{ durable: Promise<PublishResponse> }> {
    // Durations want sub-millisecond precision (an unsynced publish takes
    // less than one); nothing waits on this clock, so it is not injected.
    const startedAt = performance.now();
    const topic = this.options.topics.cached(request.topic) ?? (await this.options.topics.resolve(request.topic));
    if (!tracingEnabled()) return { durable: this.measure(topic, request, startedAt) };
    // Tracing: one `publish` span per request with a sampled record, a
    // child of the first sampled record's producer context and linked to
    // the other sampled ones' (it follows the producers' sampling decision).
    const sampled = request.records.filter((r) => sampledTraceparent(r.headers['traceparent']));
    if (sampled.length === 0) return { durable: this.measure(topic, request, startedAt) };
    const span = startPublishSpan({ topic: topic.name, partition: request.partition }, request.records.length, sampled.slice(0, maxLinks).map((r) => linkedSpanContext(r.headers)));
    return { durable: endWhenSettled(span, () => this.measure(topic, request, startedAt)) };
  }

  /** Validates, appends and waits until durable. */
  async publish(request: PublishRequest): Promise<PublishResponse> {
    const { durable } = await this.start(request);
    return durable;
  }

  /** `append`, with the request's duration and refused records counted (appended ones are counted in `append`). */
  private measure(topic: TopicView, request: PublishRequest, startedAt: number): Promise<PublishResponse> {
    if (!this.metrics.enabled) return this.append(topic, request);
    const seconds = (): number => (performance.now() - startedAt) / 1000;
    let durable: Promise<PublishResponse>;
    try {
      durable = this.append(topic, request);
    } catch (error) {
      this.metrics.failed(topic.name, request.records.length, seconds(), error);
      throw error;
    }
    return durable.then(
      (response) => {
        this.metrics.durable(topic.name, seconds());
        return response;
      },
      (error: unknown) => {
        this.metrics.failed(topic.name, request.records.length, seconds(), error);
        throw error;
      },
    );
  }

  private append(topic: TopicView, request: PublishRequest): Promise<PublishResponse> {
    const { store, clock, memoryWatermarkBytes } = this.options;
    if (request.records.length === 0) throw new InvalidArgumentError('a publish needs at least one record', { metadata: { field: 'records' } });
    const idempotent = request.producerId !== '';
    if (idempotent) {
      if (request.partition === undefined) {
        throw new InvalidArgumentError('an idempotent publish (producer_id set) must name its partition', { metadata: { field: 'partition' } });
      }
      if (request.baseSequence < 0) {
        throw new InvalidArgumentError(`base_sequence must not be negative (got ${request.baseSequence})`, { metadata: { field: 'base_sequence' } });
      }
    }

    if (request.targetSubscription !== '' && !topic.subscriptions.has(request.targetSubscription)) {
      throw new InvalidArgumentError(`target_subscription "${request.targetSubscription}" is not a subscription of topic "${topic.name}"`, {
        metadata: { field: 'target_subscription' },
      });
    }

    const now = clock.now();
    const groups = new Map<number, PartitionGroup>();
    let bytes = 0;
    request.records.forEach((record, index) => {
      const size = recordSize(record);
      if (size > topic.maxRecordBytes) throw new RecordTooLargeError(topic.name, size, topic.maxRecordBytes);
      const partition = this.partitionFor(topic, request, record.partition, record.key);
      const payload = encodeStoredRecord(record, now, request.targetSubscription);
      bytes += payload.length;
      let group = groups.get(partition);
      if (!group) {
        group = { partition, indexes: [], payloads: [] };
        groups.set(partition, group);
      }
      group.indexes.push(index);
      group.payloads.push(payload);
    });

    for (const group of groups.values()) {
      group.forwardTo = this.checkLeadership(topic, group.partition, request.leaderEpoch);
      if (group.forwardTo !== undefined) bytes -= group.payloads.reduce((sum, payload) => sum + payload.length, 0);
    }

    const held = store.unflushedBytes;
    if (held + bytes > memoryWatermarkBytes) throw new MemoryPressureError(held, memoryWatermarkBytes, memoryPressureRetryAfterMs);

    const results: PublishResult[] = new Array<PublishResult>(request.records.length);
    const appends = [...groups.values()].map((group) => {
      if (group.forwardTo !== undefined) return this.forward(group, group.forwardTo, request, results);
      return store
        .partition(topic.id, group.partition)
        .append(
          {
            payloads: group.payloads,
            timestampMs: now,
            producer: idempotent ? { id: request.producerId, baseSequence: request.baseSequence } : undefined,
          },
          topic.durability,
        )
        .then(({ baseOffset, duplicate }) => {
          group.indexes.forEach((recordIndex, i) => {
            results[recordIndex] = { partition: group.partition, offset: baseOffset + i, duplicate };
          });
          if (duplicate) return;
          this.metrics.published(topic.name, group.partition, group.payloads.length);
          this.options.onAppended?.(topic.id, group.partition);
        });
    });
    return Promise.all(appends).then(() => ({ results }));
  }

  /** Publishes `group` at its leader (forwarding mode) and fills in its results. */
  private async forward(group: PartitionGroup, address: string, request: PublishRequest, results: PublishResult[]): Promise<void> {
    const forwarder = this.options.forwarder;
    if (!forwarder) throw new Error('forward() without a forwarder');
    const records = group.indexes.flatMap((index) => {
      const record = request.records[index];
      return record ? [{ ...record, partition: group.partition }] : [];
    });
    const response = await forwarder.forward(address, group.partition, { ...request, partition: group.partition, records });
    group.indexes.forEach((recordIndex, i) => {
      const result = response.results[i];
      if (result) results[recordIndex] = result;
    });
  }

  private partitionFor(topic: TopicView, request: PublishRequest, explicit: number | undefined, key: Uint8Array | undefined): number {
    let partition: number;
    if (request.partition !== undefined && request.producerId !== '') {
      if (explicit !== undefined && explicit !== request.partition) {
        throw new InvalidArgumentError(
          `record partition ${explicit} differs from the batch partition ${request.partition} of an idempotent publish`,
          { metadata: { field: 'records.partition' } },
        );
      }
      partition = request.partition;
    } else if (explicit !== undefined) {
      partition = explicit;
    } else if (request.partition !== undefined) {
      partition = request.partition;
    } else if (key !== undefined) {
      return partitionForKey(key, topic.partitions);
    } else {
      let rr = this.roundRobin.get(topic.id);
      if (!rr) {
        rr = new RoundRobin();
        this.roundRobin.set(topic.id, rr);
      }
      return rr.next(topic.partitions);
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new PartitionOutOfRangeError(topic.name, partition, topic.partitions);
    }
    return partition;
  }

  /**
   * Checks that this broker leads `partition` (and the epoch, if tagged).
   * Returns the leader's address instead when another broker leads it and
   * forwarding is on.
   */
  private checkLeadership(topic: TopicView, partition: number, leaderEpoch: number): string | undefined {
    const { cache, brokerId, forwarder } = this.options;
    try {
      assertLeads(cache, brokerId, topic, partition);
    } catch (error) {
      if (forwarder && error instanceof NotLeaderError && error.leaderAddress !== '') return error.leaderAddress;
      throw error;
    }
    // Against this broker's own epoch, not the cached metadata's, which may
    // lag behind its latest registration. A client that sends a newer
    // epoch knows of a later registration under this id: refused (fencing).
    const own = cache.leaderEpoch ?? 0;
    if (leaderEpoch !== 0 && leaderEpoch !== own) throw new StaleEpochError(topic.name, partition, leaderEpoch, own);
    return undefined;
  }
}
