/**
 * `Admin`: topics, subscriptions, cluster metadata, broker state and raw
 * partition reads as promises. Thin wrappers over `AdminService`: every call
 * has a deadline and rejects with a `BraidError` carrying the server's gRPC
 * code, reason and message. Brokers forward admin calls to the coordinator,
 * so one address suffices; with several, a call that cannot reach one
 * (UNAVAILABLE) tries the next. Coordinators can be given directly too: a
 * standby coordinator's UNAVAILABLE (`COORDINATOR_STANDBY`) names the
 * leader, which is asked next. `readRecords` is served by the partition's
 * leader and follows NOT_LEADER redirects to it.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { InternalError, InvalidArgumentError, errorTrailers, fromGrpcError } from '@braid/core';
import type { BraidError } from '@braid/core';
import { AdminServiceClient, SubscriptionConfig, TopicConfig } from '@braid/proto';
import type {
  CircuitBreaker,
  DescribeBrokerResponse,
  DescribeSubscriptionResponse,
  DescribeTopicResponse,
  GetMetadataResponse,
  PartitionPosition,
  RateLimit,
  ReadRecordsResponse,
  RetryPolicy,
  SeekRequest,
  Subscription,
  Topic,
} from '@braid/proto';
import { ChannelPool } from './channels.js';
import type { ConnectionOptions } from './channels.js';
import { adminDefaults } from './defaults.js';

/** Options of {@link Admin}. */
export interface AdminOptions extends ConnectionOptions {
  /** Broker (or coordinator) address `host:port`, or several to try in turn. */
  brokers: string | readonly string[];
  /** Deadline of each call, in ms (default 10000). */
  timeoutMs?: number;
  /** @internal A pool shared with a `Producer`; `close()` then leaves it open. */
  pool?: ChannelPool;
}

/** Settings of a new topic; anything left out takes the server's default. */
export type TopicSettings = Partial<TopicConfig>;

/**
 * Settings of a subscription (mode, start position, ack timeout, retry
 * policy, dead-letter topic, rate limit, circuit breaker); anything left out
 * takes the server's default.
 */
export interface SubscriptionSettings extends Partial<Omit<SubscriptionConfig, 'retryPolicy' | 'rateLimit' | 'circuitBreaker'>> {
  /** Retries and dead-lettering. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Subscription-wide delivery rate limit. */
  rateLimit?: Partial<RateLimit>;
  /** Optional circuit breaker. */
  circuitBreaker?: Partial<CircuitBreaker>;
}

/** `settings` as the wire message, zero values for what is left out. */
export function subscriptionConfig(settings: SubscriptionSettings): SubscriptionConfig {
  return SubscriptionConfig.fromPartial(settings);
}

/**
 * Where {@link Admin.seek} moves a subscription's cursor:
 *
 * - `{ offsets: [{ partition, offset }, ...] }`: explicit offsets; partitions not listed stay;
 * - `{ timestamp }`: the first record published at or after this time, on every partition;
 * - `{ earliest: true }`: the oldest retained record, on every partition;
 * - `{ latest: true }`: the end of the log, on every partition.
 */
export type SeekTarget =
  | { offsets: readonly { partition: number; offset: number }[] }
  | { timestamp: Date | number }
  | { earliest: true }
  | { latest: true };

function seekTarget(target: SeekTarget): SeekRequest['target'] {
  if ('offsets' in target) return { $case: 'offsets', value: { positions: target.offsets.map(({ partition, offset }) => ({ partition, offset })) } };
  if ('timestamp' in target) {
    const ms = target.timestamp instanceof Date ? target.timestamp.getTime() : target.timestamp;
    if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError(`seek timestamp must be a valid time, got ${String(target.timestamp)}`);
    return { $case: 'timestampMs', value: ms };
  }
  return { $case: 'earliest', value: 'earliest' in target };
}

type Callback<T> = (error: ServiceError | null, response: T) => void;

/** Where and how much {@link Admin.readRecords} reads; anything left out takes the server's default. */
export interface ReadRecordsOptions {
  /** First offset to read (default 0); below the log start, the read starts there. */
  fromOffset?: number;
  /** Most records, 1-1000 (server default 100). */
  maxRecords?: number;
  /** Most bytes of stored records, 1-4194304 (server default 1 MiB); the first record comes even if larger. */
  maxBytes?: number;
}

/**
 * How many NOT_LEADER redirects `readRecords` follows: the coordinator (or
 * a broker) names the leader, and one more for metadata that moved
 * meanwhile.
 */
const maxReadRedirects = 2;

/** Normalises `brokers` into a non-empty list. */
export function brokerList(brokers: string | readonly string[]): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter((b) => b !== '');
  if (list.length === 0) throw new InvalidArgumentError('at least one broker address (host:port) is required');
  return list;
}

/**
 * Topic and subscription administration and metadata:
 *
 * ```ts
 * const admin = new Admin({ brokers: 'localhost:7401' });
 * await admin.createTopic('orders', { partitions: 8, durability: Durability.DURABILITY_WRITE });
 * const { partitions } = await admin.describeTopic('orders');
 * admin.close();
 * ```
 */
export class Admin {
  private readonly brokers: string[];
  private readonly timeoutMs: number;
  private readonly pool: ChannelPool;
  private readonly ownsPool: boolean;
  private readonly clients = new Map<string, AdminServiceClient>();

  /** @throws InvalidArgumentError when no broker address is given. */
  constructor(options: AdminOptions) {
    this.brokers = brokerList(options.brokers);
    this.timeoutMs = options.timeoutMs ?? adminDefaults.timeoutMs;
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? new ChannelPool(options);
  }

  /**
   * Creates a topic and returns it with defaults filled in. Rejects with
   * ALREADY_EXISTS if it exists, INVALID_ARGUMENT for a bad name or setting.
   */
  async createTopic(name: string, config: TopicSettings = {}): Promise<Topic> {
    const response = await this.call<{ topic?: Topic }>((client, metadata, options, callback) =>
      client.createTopic({ name, config: TopicConfig.fromPartial(config) }, metadata, options, callback),
    );
    if (!response.topic) throw new InternalError(`CreateTopic answered without a topic for "${name}"`);
    return response.topic;
  }

  /** Deletes a topic and its data. Rejects with NOT_FOUND if it does not exist. */
  async deleteTopic(name: string): Promise<void> {
    await this.call((client, metadata, options, callback) => client.deleteTopic({ name }, metadata, options, callback));
  }

  /** All topics, ordered by name. */
  async listTopics(): Promise<Topic[]> {
    const response = await this.call<{ topics: Topic[] }>((client, metadata, options, callback) =>
      client.listTopics({}, metadata, options, callback),
    );
    return response.topics;
  }

  /** A topic's settings and partitions (leader, epoch, status, watermarks). Rejects with NOT_FOUND if unknown. */
  describeTopic(name: string): Promise<DescribeTopicResponse> {
    return this.call<DescribeTopicResponse>((client, metadata, options, callback) =>
      client.describeTopic({ name }, metadata, options, callback),
    );
  }

  /**
   * Creates a subscription on `topic` and returns it with defaults filled
   * in. Rejects with ALREADY_EXISTS if it exists, NOT_FOUND if the topic is
   * unknown, INVALID_ARGUMENT for a bad name or setting.
   */
  async createSubscription(topic: string, name: string, settings: SubscriptionSettings = {}): Promise<Subscription> {
    const response = await this.call<{ subscription?: Subscription }>((client, metadata, options, callback) =>
      client.createSubscription({ topic, name, config: subscriptionConfig(settings) }, metadata, options, callback),
    );
    if (!response.subscription) throw new InternalError(`CreateSubscription answered without a subscription for "${topic}/${name}"`);
    return response.subscription;
  }

  /**
   * Replaces a subscription's settings at runtime (rate limit, retry
   * policy, ack timeout, circuit breaker): settings left out take their
   * defaults, so pass the full set (start from `describeSubscription`).
   * `mode` and `startPosition` cannot change (FAILED_PRECONDITION).
   */
  async updateSubscription(topic: string, name: string, settings: SubscriptionSettings): Promise<Subscription> {
    const response = await this.call<{ subscription?: Subscription }>((client, metadata, options, callback) =>
      client.updateSubscription({ topic, name, config: subscriptionConfig(settings) }, metadata, options, callback),
    );
    if (!response.subscription) throw new InternalError(`UpdateSubscription answered without a subscription for "${topic}/${name}"`);
    return response.subscription;
  }

  /** Deletes a subscription and its delivery state. Rejects with NOT_FOUND if unknown. */
  async deleteSubscription(topic: string, name: string): Promise<void> {
    await this.call((client, metadata, options, callback) => client.deleteSubscription({ topic, name }, metadata, options, callback));
  }

  /** The subscriptions of `topic` (of every topic when omitted), ordered by topic and name. */
  async listSubscriptions(topic = ''): Promise<Subscription[]> {
    const response = await this.call<{ subscriptions: Subscription[] }>((client, metadata, options, callback) =>
      client.listSubscriptions({ topic }, metadata, options, callback),
    );
    return response.subscriptions;
  }

  /**
   * A subscription's settings, its progress per partition (committed
   * offset, high watermark, lag, unacked, pending retries), its connected
   * members and its circuit state. Rejects with NOT_FOUND if unknown.
   */
  describeSubscription(topic: string, name: string): Promise<DescribeSubscriptionResponse> {
    return this.call<DescribeSubscriptionResponse>((client, metadata, options, callback) =>
      client.describeSubscription({ topic, name }, metadata, options, callback),
    );
  }

  /**
   * Moves a subscription's cursor (records after it are delivered again, or
   * skipped) and returns the new position of every partition it moved.
   */
  async seek(topic: string, name: string, target: SeekTarget): Promise<PartitionPosition[]> {
    const request: SeekRequest = { topic, name, target: seekTarget(target) };
    const response = await this.call<{ positions: PartitionPosition[] }>((client, metadata, options, callback) =>
      client.seek(request, metadata, options, callback),
    );
    return response.positions;
  }

  /** Brokers and partition leaders of `topics` (all topics when omitted or empty), for routing. */
  getMetadata(topics: readonly string[] = []): Promise<GetMetadataResponse> {
    return this.call<GetMetadataResponse>((client, metadata, options, callback) =>
      client.getMetadata({ topics: [...topics] }, metadata, options, callback),
    );
  }

  /**
   * The state of the process at the first reachable address (not
   * forwarded): its broker id and address, its memory (RSS, V8 heap,
   * external and array-buffer bytes) and what its Subscribe streams hold for
   * members (open streams, messages and bytes queued but not yet handed to
   * HTTP/2). A coordinator answers too, with an empty broker id and no
   * streams.
   */
  describeBroker(): Promise<DescribeBrokerResponse> {
    return this.call<DescribeBrokerResponse>((client, metadata, options, callback) => client.describeBroker({}, metadata, options, callback));
  }

  /**
   * Reads records of one partition of any topic (a dead-letter topic, say)
   * without a subscription: no cursor moves, nothing is acknowledged.
   * Returns the records (topic, partition and offset filled in) and
   * `nextOffset` (where to continue), `highWatermark` and `logStartOffset`
   * to page with. Served by the partition's leader: a NOT_LEADER answer is
   * followed to the address it names. Rejects with NOT_FOUND for an unknown
   * topic, INVALID_ARGUMENT for a partition out of range or bad limits.
   */
  async readRecords(topic: string, partition: number, options: ReadRecordsOptions = {}): Promise<ReadRecordsResponse> {
    const request = { topic, partition, fromOffset: options.fromOffset ?? 0, maxRecords: options.maxRecords ?? 0, maxBytes: options.maxBytes ?? 0 };
    const invoke = (client: AdminServiceClient, metadata: Metadata, callOptions: { deadline: number }, callback: Callback<ReadRecordsResponse>): unknown =>
      client.readRecords(request, metadata, callOptions, callback);
    let redirects = 0;
    let address: string | undefined;
    for (;;) {
      try {
        return address === undefined ? await this.call(invoke) : await this.callAt(address, invoke);
      } catch (error) {
        const braid = fromGrpcError(error);
        if (braid.reason !== 'NOT_LEADER' || braid.leaderAddress === '' || redirects >= maxReadRedirects) throw braid;
        redirects++;
        address = braid.leaderAddress;
      }
    }
  }

  /** Closes the connections (unless shared with a producer). */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    if (this.ownsPool) this.pool.close();
  }

  private client(address: string): AdminServiceClient {
    let client = this.clients.get(address);
    if (!client) {
      client = this.pool.client(address, AdminServiceClient);
      this.clients.set(address, client);
    }
    return client;
  }

  /**
   * Runs one call against the first broker, moving on to the next only
   * while the call could not reach a server (UNAVAILABLE without Braid
   * detail) or reached a standby coordinator, whose named leader is asked
   * next: any other answer from a server is final. Each address is asked
   * at most once.
   */
  private async call<T>(
    invoke: (client: AdminServiceClient, metadata: Metadata, options: { deadline: number }, callback: Callback<T>) => unknown,
  ): Promise<T> {
    let lastError: BraidError | undefined;
    const asked = new Set<string>();
    const queue = [...this.brokers];
    for (let address = queue.shift(); address !== undefined; address = queue.shift()) {
      if (asked.has(address)) continue;
      asked.add(address);
      const outcome = await this.attempt(address, invoke);
      if (outcome.ok) return outcome.response;
      const standby = outcome.error.reason === 'COORDINATOR_STANDBY';
      if (!outcome.unreachable && !standby) throw outcome.error;
      if (standby && outcome.error.leaderAddress !== '') queue.unshift(outcome.error.leaderAddress);
      lastError = outcome.error;
    }
    throw lastError ?? new InternalError('no broker address to ask');
  }

  /** Runs one call against `address` only (a leader named by a redirect). */
  private async callAt<T>(
    address: string,
    invoke: (client: AdminServiceClient, metadata: Metadata, options: { deadline: number }, callback: Callback<T>) => unknown,
  ): Promise<T> {
    const outcome = await this.attempt(address, invoke);
    if (outcome.ok) return outcome.response;
    throw outcome.error;
  }

  private attempt<T>(
    address: string,
    invoke: (client: AdminServiceClient, metadata: Metadata, options: { deadline: number }, callback: Callback<T>) => unknown,
  ): Promise<{ ok: true; response: T } | { ok: false; error: BraidError; unreachable: boolean }> {
    return new Promise((resolve) => {
      invoke(this.client(address), new Metadata(), { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (error) resolve({ ok: false, error: fromGrpcError(error), unreachable: isUnreachable(error) });
        else resolve({ ok: true, response });
      });
    });
  }
}

/** Whether a call failed before reaching a Braid server (no Braid detail in the trailers). */
export function isUnreachable(error: ServiceError): boolean {
  return error.code === Status.UNAVAILABLE && error.metadata.get(errorTrailers.reason).length === 0;
}
