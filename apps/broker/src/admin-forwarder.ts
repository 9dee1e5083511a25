/**
 * The broker's `AdminService`: it forwards every call to the coordinator
 * (which owns topics and subscriptions; to the leading one when several
 * run, see `coordinator-link.ts`), so a client needs only one address,
 * and adds what only the leader knows (high watermark, log start, size) to
 * topic descriptions. `Seek`, `ReadRecords` (from this broker's logs,
 * `record-reader.ts`) and `DescribeBroker` are answered here.
 */
import { AdminServiceService } from '@braid/proto';
import { FailedPreconditionError, InvalidArgumentError, SubscriptionNotFoundError, TopicNotFoundError } from '@braid/core';
import type {
  DescribeBrokerResponse,
  DescribeSubscriptionResponse,
  DescribeTopicResponse,
  ReadRecordsRequest,
  SeekRequest,
  SeekResponse,
} from '@braid/proto';
import type { PartitionLog } from '@braid/storage';
import type { DispatcherRegistry } from './consume/dispatcher-registry.js';
import type { MetadataCache } from './metadata-cache.js';
import { readRecords } from './record-reader.js';
import type { TopicResolver } from './topic-resolver.js';
import { unary } from '@braid/server';
import type { ServiceRegistration } from '@braid/server';
import type { LogStore } from '@braid/storage';

/** Deadline for a forwarded call. */
const forwardTimeoutMs = 10_000;

/** What the broker answers itself besides forwarding. */
export interface AdminForwarderContext {
  /**
   * Calls the unary AdminService method `method` (grpc-js client name) at
   * the coordinator and resolves with its answer (`CoordinatorLink.callAdmin`).
   */
  forward: (method: string, request: unknown, timeoutMs: number) => Promise<unknown>;
  store: LogStore;
  brokerId: string;
  cache: MetadataCache;
  /** Topics by name, fetched from the coordinator on a cache miss. */
  topics: TopicResolver;
  registry: DispatcherRegistry;
  /** This broker's `DescribeBroker` answer, as of now. */
  describeBroker: () => DescribeBrokerResponse;
}

/** Seeks every partition this broker leads for a subscription. */
async function seek(context: AdminForwarderContext, request: SeekRequest): Promise<SeekResponse> {
  const topic = context.cache.topic(request.topic);
  if (!topic) throw new TopicNotFoundError(request.topic);
  const subscription = topic.subscriptions.get(request.name);
  if (!subscription) throw new SubscriptionNotFoundError(request.topic, request.name);
  const dispatcher = await context.registry.get(topic, subscription);
  const target = request.target;
  if (!target) throw new InvalidArgumentError('seek needs a target: offsets, timestamp_ms or earliest');
  const positions: { partition: number; offset: number }[] = [];
  if (target.$case === 'offsets') {
    for (const position of target.value.positions) {
      if (!dispatcher.partitions.includes(position.partition)) {
        throw new FailedPreconditionError(`partition ${position.partition} of "${topic.name}" is not led by this broker`);
      }
      if (position.offset < 0) throw new InvalidArgumentError(`seek offset must not be negative (got ${position.offset})`);
    }
    for (const position of target.value.positions) {
      positions.push({ partition: position.partition, offset: await dispatcher.seek(position.partition, () => Promise.resolve(position.offset)) });
    }
  } else {
    const to = (log: PartitionLog): Promise<number> =>
      target.$case === 'timestampMs'
        ? log.offsetForTimestamp(target.value)
        : Promise.resolve(target.value ? log.logStartOffset : log.highWatermark);
    for (const partition of dispatcher.partitions) positions.push({ partition, offset: await dispatcher.seek(partition, to) });
  }
  return { positions };
}

/** The AdminService registration for the broker's server. */
export function adminForwarder(context: AdminForwarderContext): ServiceRegistration {
  const { store, brokerId } = context;
  const forward = (method: string, request: unknown): Promise<unknown> => context.forward(method, request, forwardTimeoutMs);
  const implementation: Record<string, ReturnType<typeof unary>> = {};
  for (const method of Object.keys(AdminServiceService)) {
    implementation[method] = unary((request: unknown) => forward(method, request));
  }
  implementation.describeTopic = unary(async (request: unknown) => {
    const described = (await forward('describeTopic', request)) as DescribeTopicResponse;
    const id = described.topic?.id;
    if (id !== undefined) {
      for (const info of described.partitions) {
        if (info.leaderId !== brokerId) continue;
        const log = store.partition(id, info.partition);
        info.highWatermark = log.highWatermark;
        info.logStartOffset = log.logStartOffset;
        info.sizeBytes = log.sizeBytes;
      }
    }
    return described;
  });
  implementation.describeSubscription = unary(async (request: unknown) => {
    const described = (await forward('describeSubscription', request)) as DescribeSubscriptionResponse;
    const topic = context.cache.topic(described.subscription?.topic ?? '');
    const dispatcher = topic ? await context.registry.find(topic.id, described.subscription?.name ?? '') : undefined;
    if (dispatcher) {
      described.partitions = dispatcher.progress().map((p) => ({ ...p, lag: Math.max(0, p.highWatermark - p.committedOffset) }));
      described.members = dispatcher.memberInfo().map((m) => ({ ...m, brokerId, connectedAtMs: 0 }));
      described.circuitState = dispatcher.circuitState;
    }
    return described;
  });
  implementation.seek = unary((request: unknown) => seek(context, request as SeekRequest));
  // The log is here (or, for a partition led elsewhere, NOT_LEADER names where): never forwarded.
  implementation.readRecords = unary((request: unknown) => readRecords(context, request as ReadRecordsRequest));
  // About this process: never forwarded.
  implementation.describeBroker = unary(() => Promise.resolve(context.describeBroker()));
  return { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation };
}
