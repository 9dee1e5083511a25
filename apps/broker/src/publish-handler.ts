/**
 * The publish path: validate a batch, pick each record's partition, check
 * leadership, epoch and the memory watermark, and append the records to the
 * partition logs (group-committed). `start()` does everything that can wait
 * (metadata lookups) and then hands the records to the logs synchronously,
 * returning a promise that resolves once they are durable; a stream that
 * calls `start()` for its requests one after another therefore keeps their
 * order per partition while their durability overlaps.
 */
import {
  InvalidArgumentError,
  MemoryPressureError,
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
}

/** Suggested wait before retrying after memory pressure (ms). */
const memoryPressureRetryAfterMs = 100;

interface PartitionGroup {
  partition: number;
  indexes: number[];
  payloads: Buffer[];
}

/** See the file comment. */
export class PublishHandler {
  private readonly roundRobin = new Map<number, RoundRobin>();

  constructor(private readonly options: PublishHandlerOptions) {}

  /**
   * Validates `request` and hands its records to the logs. Resolves (after
   * any metadata lookup) once the records have their offsets; `durable`
   * resolves when they are acknowledged-safe. Rejects on invalid input.
   */
  async start(request: PublishRequest): Promise<{ durable: Promise<PublishResponse> }> {
    const topic = this.options.topics.cached(request.topic) ?? (await this.options.topics.resolve(request.topic));
    return { durable: this.append(topic, request) };
  }

  /** Validates, appends and waits until durable. */
  async publish(request: PublishRequest): Promise<PublishResponse> {
    const { durable } = await this.start(request);
    return durable;
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

    const now = clock.now();
    const groups = new Map<number, PartitionGroup>();
    let bytes = 0;
    request.records.forEach((record, index) => {
      const size = recordSize(record);
      if (size > topic.maxRecordBytes) throw new RecordTooLargeError(topic.name, size, topic.maxRecordBytes);
      const partition = this.partitionFor(topic, request, record.partition, record.key);
      const payload = encodeStoredRecord(record, now);
      bytes += payload.length;
      let group = groups.get(partition);
      if (!group) {
        group = { partition, indexes: [], payloads: [] };
        groups.set(partition, group);
      }
      group.indexes.push(index);
      group.payloads.push(payload);
    });

    for (const partition of groups.keys()) this.checkLeadership(topic, partition, request.leaderEpoch);

    const held = store.unflushedBytes;
    if (held + bytes > memoryWatermarkBytes) throw new MemoryPressureError(held, memoryWatermarkBytes, memoryPressureRetryAfterMs);

    const results: PublishResult[] = new Array<PublishResult>(request.records.length);
    const appends = [...groups.values()].map((group) =>
      store
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
          if (!duplicate) this.options.onAppended?.(topic.id, group.partition);
        }),
    );
    return Promise.all(appends).then(() => ({ results }));
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

  private checkLeadership(topic: TopicView, partition: number, leaderEpoch: number): void {
    const { cache, brokerId } = this.options;
    assertLeads(cache, brokerId, topic, partition);
    // Against this broker's own epoch, not the cached metadata's, which may
    // lag behind its latest registration. A client that sends a newer
    // epoch knows of a later registration under this id: refused (fencing).
    const own = cache.leaderEpoch ?? 0;
    if (leaderEpoch !== 0 && leaderEpoch !== own) throw new StaleEpochError(topic.name, partition, leaderEpoch, own);
  }
}
