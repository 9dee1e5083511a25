/**
 * A fake broker for tests of code that uses the SDK (the SDK's own tests,
 * the CLI's command tests): an in-process grpc-js server with
 * `ProducerService`, `ConsumerService` and `AdminService` (with
 * `ReadRecords` over its logs), keeping partition logs and subscriptions in
 * memory. It deduplicates idempotent batches by
 * (producer id, partition, sequence) and refuses out-of-order sequences, as
 * the real broker must, and lets a test inject faults per publish request
 * (refuse, lose the connection before or after appending, hold the answer).
 * The consume side (`Subscribe` under credit, acks, leases, retries with the
 * subscription's policy, release, dead letters, BLOCK_KEY) is in
 * `./fake-subscriptions.ts`; `dropConsumerStreams()` simulates a restart.
 *
 * Exported as `@braid/client/testing`; never used by production code. It is
 * a test double of the broker's contract, not of its storage.
 */
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  systemClock,
  systemRandom,
  InvalidArgumentError,
  NotLeaderError,
  PartitionOutOfRangeError,
  PartitionUnavailableError,
  RecordTooLargeError,
  StaleEpochError,
  TopicNotFoundError,
  assertValidName,
  toBraidError,
  toGrpcStatus,
  toStreamError,
} from '@braid/core';
import type { BraidError, Clock, Random } from '@braid/core';
import { partitionForKey } from '@braid/partitioning';
import { AdminServiceService, ConsumerServiceService, Durability, PartitionStatus, ProducerServiceService } from '@braid/proto';
import type {
  AdminServiceServer,
  PartitionInfo,
  ProducerServiceServer,
  PublishRequest,
  PublishResponse,
  PublishResult,
  PublishStreamRequest,
  PublishStreamResponse,
  Subscription,
  SubscribeRequest,
  SubscribeResponse,
  Topic,
  TopicConfig,
  TopicMetadata,
} from '@braid/proto';
import { subscriptionConfig } from './admin.js';
import type { SubscriptionSettings } from './admin.js';
import { FakeSubscriptions } from './fake-subscriptions.js';
import type { FakeLogRecord } from './fake-subscriptions.js';

export type { FakeDeadLetter, FakeDelivery, FakeLogRecord, FakeSubscribeRequest } from './fake-subscriptions.js';
export { FakeSubscriptions } from './fake-subscriptions.js';

/** A record appended with {@link FakeBroker.publish}. */
export interface FakeRecordInput {
  /** Key (UTF-8 for a string). */
  key?: string | Buffer;
  /** Value (UTF-8 for a string). */
  value: string | Buffer;
  /** Headers. */
  headers?: Record<string, string>;
  /** Partition (default: the key's `partitionForKey`, else 0). */
  partition?: number;
}

/**
 * What the broker does with one publish request instead of the normal path:
 *
 * - `refuse`: answers with `error` (a refusal: nothing appended).
 * - `drop`: breaks the stream (UNAVAILABLE, no Braid detail) without appending.
 * - `drop-after-append`: appends, then breaks the stream before answering.
 * - `hold`: waits for `until`, then handles the request normally.
 */
export type PublishFault =
  | { kind: 'refuse'; error: BraidError }
  | { kind: 'drop' }
  | { kind: 'drop-after-append' }
  | { kind: 'hold'; until: Promise<void> };

/** Decides a fault for the `n`-th publish request (0-based, over all streams). */
export type FaultHook = (request: PublishRequest, n: number) => PublishFault | undefined;

/** Options of {@link FakeBroker.start}. */
export interface FakeBrokerOptions {
  /** Serve `PublishStream` (default true); false answers it UNIMPLEMENTED, leaving unary `Publish`. */
  publishStream?: boolean;
  /** Time of publishes, leases and expiry (default the system clock; leases are checked every 10 ms of real time). */
  clock?: Clock;
  /** Answer `nack` and `reject` with an UNIMPLEMENTED stream error, as a broker before the retries issue (default false). */
  settleUnimplemented?: boolean;
  /**
   * Under `RETRY_ORDER_BLOCK_KEY`, hold back the later records of a key
   * while a record of it waits for its retry, as the broker does (default
   * true). false delivers them anyway, like a broker that has not learnt of
   * the failure yet.
   */
  blockKeys?: boolean;
  /** Jitter of retry delays (default `Math.random`). */
  random?: Random;
}

interface FakeTopic {
  topic: Topic;
  logs: FakeLogRecord[][];
  leaders: string[];
  epochs: number[];
}

interface SequenceState {
  next: number;
  batches: Map<number, { count: number; offsets: number[] }>;
}

const MiB = 1024 * 1024;

function logRecord(offset: number, key: Buffer | undefined, value: Buffer, headers: Record<string, string>, producerId: string, publishTimeMs: number): FakeLogRecord {
  return {
    offset,
    key: key === undefined ? undefined : key.toString('utf8'),
    value: value.toString('utf8'),
    headers,
    producerId,
    keyBytes: key === undefined ? undefined : Buffer.from(key),
    valueBytes: Buffer.from(value),
    publishTimeMs,
  };
}

/** An in-memory broker on a free loopback port. */
export class FakeBroker {
  /** Every publish request received (stream and unary), in arrival order. */
  readonly requests: PublishRequest[] = [];
  /** Fault injection: consulted for every publish request. */
  faults: FaultHook | undefined;
  /** Number of `GetMetadata` calls answered. */
  metadataCalls = 0;

  /** The consume side: subscriptions, Subscribe streams and what they received and delivered. */
  readonly subscriptions: FakeSubscriptions;

  private readonly topics = new Map<string, FakeTopic>();
  private readonly sequences = new Map<string, SequenceState>();
  private nextTopicId = 1;

  private constructor(
    private readonly server: Server,
    /** host:port of the fake. */
    readonly address: string,
    private readonly clock: Clock,
    options: FakeBrokerOptions,
  ) {
    this.subscriptions = new FakeSubscriptions({
      address,
      clock,
      topic: (name) => this.requireTopic(name),
      settleUnimplemented: options.settleUnimplemented ?? false,
      blockKeys: options.blockKeys ?? true,
      random: options.random ?? systemRandom,
    });
  }

  /** Starts a fake broker on 127.0.0.1 and a free port. */
  static async start(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
    const server = new Server({ 'grpc.max_receive_message_length': 64 * MiB });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    const broker = new FakeBroker(server, `127.0.0.1:${port}`, options.clock ?? systemClock, options);
    server.addService(ProducerServiceService, broker.producerService(options.publishStream ?? true));
    server.addService(ConsumerServiceService, {
      subscribe: (call: ServerDuplexStream<SubscribeRequest, SubscribeResponse>) => { broker.subscriptions.subscribe(call); },
    });
    server.addService(AdminServiceService, broker.adminService());
    return broker;
  }

  /** Creates a topic directly (as `CreateTopic` does). */
  createTopic(name: string, config: Partial<TopicConfig> = {}): Topic {
    assertValidName('topic', name);
    if (this.topics.has(name)) throw new AlreadyExistsError(`topic "${name}" already exists`);
    const filled: TopicConfig = {
      partitions: config.partitions || 1,
      retentionMs: config.retentionMs ?? 0,
      retentionBytes: config.retentionBytes ?? 0,
      durability: config.durability || Durability.DURABILITY_FSYNC,
      maxRecordBytes: config.maxRecordBytes || MiB,
    };
    if (filled.partitions < 1 || filled.partitions > 4096) throw new InvalidArgumentError('partitions must be 1-4096');
    const topic: Topic = { name, id: this.nextTopicId++, config: filled, createdAtMs: this.clock.now() };
    const n = filled.partitions;
    this.topics.set(name, {
      topic,
      logs: Array.from({ length: n }, () => []),
      leaders: Array.from({ length: n }, () => this.address),
      epochs: Array.from({ length: n }, () => 1),
    });
    return topic;
  }

  /** Makes `address` the leader of a partition (this broker then answers NOT_LEADER for it). */
  setLeader(topic: string, partition: number, address: string, epoch?: number): void {
    const t = this.requireTopic(topic);
    t.leaders[partition] = address;
    t.epochs[partition] = epoch ?? (t.epochs[partition] ?? 0) + 1;
  }

  /** The records of one partition, in offset order. */
  log(topic: string, partition: number): FakeLogRecord[] {
    return this.requireTopic(topic).logs[partition] ?? [];
  }

  /** Every record of a topic, by partition. */
  logs(topic: string): FakeLogRecord[][] {
    return this.requireTopic(topic).logs;
  }

  /** Creates a subscription directly (as `CreateSubscription` does). */
  createSubscription(topic: string, name: string, settings: SubscriptionSettings = {}): Subscription {
    return this.subscriptions.create(topic, name, subscriptionConfig(settings));
  }

  /**
   * Appends records directly (no producer), as the partition leader would,
   * and delivers them to subscriptions. Returns each record's offset.
   */
  publish(topic: string, records: readonly FakeRecordInput[]): { partition: number; offset: number }[] {
    const t = this.requireTopic(topic);
    const results = records.map((input) => {
      const key = input.key === undefined ? undefined : Buffer.from(input.key);
      const partition = input.partition ?? (key ? partitionForKey(key, t.logs.length) : 0);
      const log = t.logs[partition];
      if (!log) throw new PartitionOutOfRangeError(topic, partition, t.logs.length);
      const offset = log.length;
      log.push(logRecord(offset, key, Buffer.from(input.value), input.headers ?? {}, '', this.clock.now()));
      return { partition, offset };
    });
    this.subscriptions.appended(topic);
    return results;
  }

  /** Ends every Subscribe stream with UNAVAILABLE (a broker restart, as members see it). */
  dropConsumerStreams(): void {
    this.subscriptions.dropStreams();
  }

  /** Stops the server at once. */
  stop(): void {
    this.subscriptions.close();
    this.server.forceShutdown();
  }

  private requireTopic(name: string): FakeTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }

  /** Appends a batch, or throws the refusal a broker would answer. */
  private append(request: PublishRequest): PublishResponse {
    const topic = this.requireTopic(request.topic);
    const partitions = topic.topic.config?.partitions ?? 1;
    const maxRecordBytes = topic.topic.config?.maxRecordBytes ?? MiB;
    const targets = request.records.map((record) => request.partition ?? record.partition ?? 0);
    for (const [i, record] of request.records.entries()) {
      const partition = targets[i] ?? 0;
      if (partition < 0 || partition >= partitions) throw new PartitionOutOfRangeError(request.topic, partition, partitions);
      const size = (record.key?.length ?? 0) + record.value.length +
        Object.entries(record.headers).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      if (size > maxRecordBytes) throw new RecordTooLargeError(request.topic, size, maxRecordBytes);
      const leader = topic.leaders[partition] ?? this.address;
      if (leader !== this.address) throw new NotLeaderError(request.topic, partition, leader);
      const epoch = topic.epochs[partition] ?? 0;
      if (request.leaderEpoch !== 0 && request.leaderEpoch !== epoch) {
        throw new StaleEpochError(request.topic, partition, request.leaderEpoch, epoch);
      }
    }

    let sequence: SequenceState | undefined;
    if (request.producerId !== '') {
      if (request.partition === undefined) throw new InvalidArgumentError('an idempotent batch needs a partition');
      const key = `${request.producerId}/${request.topic}/${request.partition}`;
      sequence = this.sequences.get(key) ?? { next: 0, batches: new Map() };
      this.sequences.set(key, sequence);
      if (request.baseSequence < sequence.next) {
        const earlier = sequence.batches.get(request.baseSequence);
        if (earlier?.count !== request.records.length) {
          throw new InvalidArgumentError(`sequence ${request.baseSequence} does not match an earlier batch`);
        }
        return { results: earlier.offsets.map((offset) => ({ partition: request.partition ?? 0, offset, duplicate: true })) };
      }
      if (request.baseSequence > sequence.next) {
        throw new InvalidArgumentError(`out of order sequence: expected ${sequence.next}, got ${request.baseSequence}`, {
          metadata: { reason: 'OUT_OF_ORDER_SEQUENCE', expected: String(sequence.next) },
        });
      }
    }

    const results: PublishResult[] = request.records.map((record, i) => {
      const partition = targets[i] ?? 0;
      const log = topic.logs[partition] ?? [];
      const offset = log.length;
      log.push(logRecord(offset, record.key, record.value, { ...record.headers }, request.producerId, this.clock.now()));
      return { partition, offset, duplicate: false };
    });
    if (sequence) {
      sequence.batches.set(request.baseSequence, { count: results.length, offsets: results.map((r) => r.offset) });
      sequence.next = request.baseSequence + results.length;
    }
    this.subscriptions.appended(request.topic);
    return { results };
  }

  private producerService(serveStream: boolean): ProducerServiceServer {
    return {
      publish: (call: ServerUnaryCall<PublishRequest, PublishResponse>, callback: sendUnaryData<PublishResponse>) => {
        const request = call.request;
        const fault = this.faults?.(request, this.requests.length);
        this.requests.push(request);
        void (async () => {
          if (fault?.kind === 'hold') await fault.until;
          if (fault?.kind === 'refuse') {
            callback(toGrpcStatus(fault.error));
            return;
          }
          if (fault?.kind === 'drop') {
            callback({ code: Status.UNAVAILABLE, details: 'fake broker dropped the call' });
            return;
          }
          try {
            const response = this.append(request);
            if (fault?.kind === 'drop-after-append') callback({ code: Status.UNAVAILABLE, details: 'fake broker dropped the call' });
            else callback(null, response);
          } catch (error) {
            callback(toGrpcStatus(error));
          }
        })();
      },
      publishStream: (call: ServerDuplexStream<PublishStreamRequest, PublishStreamResponse>) => {
        if (!serveStream) {
          call.emit('error', { code: Status.UNIMPLEMENTED, details: 'PublishStream is not implemented by this fake' });
          return;
        }
        let chain = Promise.resolve();
        let dropped = false;
        const drop = (): void => {
          dropped = true;
          call.emit('error', { code: Status.UNAVAILABLE, details: 'fake broker dropped the stream' });
        };
        call.on('data', (message: PublishStreamRequest) => {
          const request = message.publish;
          if (!request) return;
          const fault = this.faults?.(request, this.requests.length);
          this.requests.push(request);
          // Answer strictly in request order, as the contract says.
          chain = chain.then(async () => {
            if (fault?.kind === 'hold') await fault.until;
            if (dropped) return;
            if (fault?.kind === 'drop') {
              drop();
              return;
            }
            if (fault?.kind === 'refuse') {
              call.write({ requestId: message.requestId, result: { $case: 'error', value: toStreamError(fault.error) } });
              return;
            }
            try {
              const response = this.append(request);
              if (fault?.kind === 'drop-after-append') drop();
              else call.write({ requestId: message.requestId, result: { $case: 'ok', value: response } });
            } catch (error) {
              call.write({ requestId: message.requestId, result: { $case: 'error', value: toStreamError(error) } });
            }
          });
        });
        call.on('end', () => {
          void chain.then(() => {
            if (!dropped) call.end();
          });
        });
        call.on('error', () => undefined);
      },
    };
  }

  private adminService(): AdminServiceServer {
    const unary = <Req, Res>(handler: (request: Req) => Res) => (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      try {
        callback(null, handler(call.request));
      } catch (error) {
        callback(toGrpcStatus(toBraidError(error)));
      }
    };
    return {
      createTopic: unary((request) => ({ topic: this.createTopic(request.name, request.config ?? {}) })),
      deleteTopic: unary((request) => {
        this.requireTopic(request.name);
        this.subscriptions.dropTopic(request.name);
        this.topics.delete(request.name);
        return {};
      }),
      listTopics: unary(() => ({ topics: [...this.topics.values()].map((t) => t.topic).sort((a, b) => a.name.localeCompare(b.name)) })),
      describeTopic: unary((request) => {
        const t = this.requireTopic(request.name);
        return { topic: t.topic, partitions: this.partitionInfos(t) };
      }),
      getMetadata: unary((request) => {
        this.metadataCalls += 1;
        const names = request.topics.length > 0 ? request.topics : [...this.topics.keys()];
        const topics: TopicMetadata[] = names.map((name) => {
          const t = this.requireTopic(name);
          return { topic: t.topic, partitions: this.partitionInfos(t), subscriptions: this.subscriptions.of(name) };
        });
        return { brokers: [{ brokerId: 'fake-1', address: this.address, live: true, leaseExpiresAtMs: 0, registeredAtMs: 0, leaderEpoch: 1 }], topics, version: 1 };
      }),
      // This (test) process's memory; the fake does not meter its stream writes, so nothing counts as queued.
      describeBroker: unary(() => {
        const memory = process.memoryUsage();
        return {
          brokerId: 'fake-1',
          address: this.address,
          deadLetteredRecords: 0,
          memory: { rssBytes: memory.rss, heapTotalBytes: memory.heapTotal, heapUsedBytes: memory.heapUsed, externalBytes: memory.external, arrayBuffersBytes: memory.arrayBuffers },
          consume: { subscribeStreams: this.subscriptions.streamCount, queuedMessages: 0, queuedBytes: 0 },
        };
      }),
      // Like the broker: the leader reads its log; another leader is a NOT_LEADER redirect.
      readRecords: unary((request) => {
        const t = this.requireTopic(request.topic);
        const log = t.logs[request.partition];
        if (!log) throw new PartitionOutOfRangeError(request.topic, request.partition, t.logs.length);
        const leader = t.leaders[request.partition] ?? this.address;
        if (leader === '') throw new PartitionUnavailableError(request.topic, request.partition);
        if (leader !== this.address) throw new NotLeaderError(request.topic, request.partition, leader);
        const maxRecords = request.maxRecords || 100;
        if (maxRecords < 1 || maxRecords > 1000) throw new InvalidArgumentError(`max_records must be 1-1000, got ${request.maxRecords}`);
        if (request.fromOffset < 0) throw new InvalidArgumentError(`from_offset must not be negative, got ${request.fromOffset}`);
        const records = log.slice(request.fromOffset, request.fromOffset + maxRecords).map((r) => ({
          topic: request.topic,
          partition: request.partition,
          offset: r.offset,
          key: r.keyBytes,
          value: r.valueBytes,
          headers: { ...r.headers },
          publishTimeMs: r.publishTimeMs,
          deliverAtMs: 0,
          targetSubscription: '',
          redriveCount: 0,
        }));
        const last = records.at(-1);
        return { records, nextOffset: last ? last.offset + 1 : request.fromOffset, highWatermark: log.length, logStartOffset: 0 };
      }),
      ...this.subscriptions.adminHandlers(),
    };
  }

  private partitionInfos(t: FakeTopic): PartitionInfo[] {
    return t.logs.map((log, partition) => ({
      partition,
      leaderId: t.leaders[partition] === this.address ? 'fake-1' : 'other',
      leaderAddress: t.leaders[partition] ?? this.address,
      leaderEpoch: t.epochs[partition] ?? 0,
      status: PartitionStatus.PARTITION_STATUS_AVAILABLE,
      highWatermark: log.length,
      logStartOffset: 0,
      sizeBytes: log.reduce((sum, r) => sum + r.value.length, 0),
    }));
  }
}
