/**
 * The broker's `AdminService`: it forwards every call to the coordinator
 * (which owns topics and subscriptions; to the leading one when several
 * run, see `coordinator-link.ts`), so a client needs only one address.
 * What only partition leaders know is gathered from them: watermarks in
 * DescribeTopic, progress and members in DescribeSubscription, and Seek,
 * from this broker for the partitions it leads and from the other leaders
 * for theirs (`peer-admin.ts`). `ReadRecords` (from this broker's logs, or
 * NOT_LEADER naming the leader: `record-reader.ts`) and `DescribeBroker`
 * are answered here.
 */
import { AdminServiceService, CircuitState, PartitionInfo, PartitionStatus } from '@braid/proto';
import { FailedPreconditionError, InvalidArgumentError, PartitionOutOfRangeError, PartitionUnavailableError, SubscriptionNotFoundError, TopicNotFoundError } from '@braid/core';
import type {
  DescribeBrokerResponse,
  DescribeSubscriptionRequest,
  DescribeSubscriptionResponse,
  DescribeTopicRequest,
  DescribeTopicResponse,
  PartitionPosition,
  ReadRecordsRequest,
  SeekRequest,
  SeekResponse,
  Subscription,
  SubscriptionPartition,
} from '@braid/proto';
import type { PartitionLog } from '@braid/storage';
import type { DispatcherRegistry } from './consume/dispatcher-registry.js';
import type { MetadataCache, TopicView } from './metadata-cache.js';
import { isLeaderLocal } from './peer-admin.js';
import type { PeerAdmin } from './peer-admin.js';
import { readRecords } from './record-reader.js';
import { lagOf, logsByTopic, storedProgressOf } from './stored-progress.js';
import type { PartitionProgress } from './stored-progress.js';
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
  /** Clients of the other brokers, for what their partitions know. */
  peers: PeerAdmin;
  /** This broker's advertised address. */
  selfAddress: () => string;
}

/** The subscription `name` of `topic` as this broker knows it; NOT_FOUND otherwise. */
function subscriptionOf(topic: TopicView, name: string): Subscription {
  const subscription = topic.subscriptions.get(name);
  if (!subscription) throw new SubscriptionNotFoundError(topic.name, name);
  return subscription;
}

/**
 * Where the partitions of `topic` (all of them, or `only`) that this broker
 * does not lead are led: by leader address, and those with no live leader.
 */
function leadersElsewhere(context: AdminForwarderContext, topic: TopicView, only?: ReadonlySet<number>): { byAddress: Map<string, number[]>; unavailable: number[] } {
  const { cache, brokerId } = context;
  const self = context.selfAddress();
  const byAddress = new Map<string, number[]>();
  const unavailable: number[] = [];
  for (let partition = 0; partition < topic.partitions; partition++) {
    if (only && !only.has(partition)) continue;
    const { leads, info } = cache.leadership(topic, partition, brokerId);
    if (leads) continue;
    const address = info ? (cache.addressOf(info.leaderId) ?? info.leaderAddress) : '';
    if (!info || info.status === PartitionStatus.PARTITION_STATUS_UNAVAILABLE || address === '' || address === self) {
      unavailable.push(partition);
      continue;
    }
    const partitions = byAddress.get(address) ?? [];
    partitions.push(partition);
    byAddress.set(address, partitions);
  }
  return { byAddress, unavailable };
}

/** Seeks the partitions this broker leads (`positions` of `offsets`, else all it leads). */
async function seekLocal(context: AdminForwarderContext, topic: TopicView, subscription: Subscription, target: NonNullable<SeekRequest['target']>): Promise<PartitionPosition[]> {
  const dispatcher = await context.registry.get(topic, subscription);
  const positions: PartitionPosition[] = [];
  if (target.$case === 'offsets') {
    for (const position of target.value.positions) {
      if (!dispatcher.partitions.includes(position.partition)) {
        throw new FailedPreconditionError(`partition ${position.partition} of "${topic.name}" is not led by this broker`);
      }
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
  return positions;
}

/**
 * Seeks a subscription on every partition (or those named): here for the
 * partitions this broker leads, at their leaders for the others. Every
 * partition concerned must have a live leader (UNAVAILABLE otherwise,
 * before anything moves). With `local`, only this broker's partitions.
 */
async function seek(context: AdminForwarderContext, request: SeekRequest, local: boolean): Promise<SeekResponse> {
  const topic = context.cache.topic(request.topic);
  if (!topic) throw new TopicNotFoundError(request.topic);
  const subscription = subscriptionOf(topic, request.name);
  const target = request.target;
  if (!target) throw new InvalidArgumentError('seek needs a target: offsets, timestamp_ms or earliest');
  if (target.$case === 'offsets') {
    for (const position of target.value.positions) {
      if (!Number.isInteger(position.partition) || position.partition < 0 || position.partition >= topic.partitions) {
        throw new PartitionOutOfRangeError(topic.name, position.partition, topic.partitions);
      }
      if (position.offset < 0) throw new InvalidArgumentError(`seek offset must not be negative (got ${position.offset})`);
    }
  }
  if (local) return { positions: await seekLocal(context, topic, subscription, target) };
  const named = target.$case === 'offsets' ? new Set(target.value.positions.map((p) => p.partition)) : undefined;
  const { byAddress: others, unavailable } = leadersElsewhere(context, topic, named);
  const [down] = unavailable;
  if (down !== undefined) throw new PartitionUnavailableError(topic.name, down);
  const elsewhere = new Set([...others.values()].flat());
  const mine: NonNullable<SeekRequest['target']> =
    target.$case === 'offsets' ? { $case: 'offsets', value: { positions: target.value.positions.filter((p) => !elsewhere.has(p.partition)) } } : target;
  const parts = await Promise.all([
    seekLocal(context, topic, subscription, mine),
    ...[...others].map(async ([address, partitions]) => {
      const theirs: NonNullable<SeekRequest['target']> =
        target.$case === 'offsets' ? { $case: 'offsets', value: { positions: target.value.positions.filter((p) => partitions.includes(p.partition)) } } : target;
      return (await context.peers.seek(address, { topic: request.topic, name: request.name, target: theirs })).positions;
    }),
  ]);
  return { positions: parts.flat().sort((a, b) => a.partition - b.partition) };
}

/** Watermarks and size of the partitions of topic `id` this broker leads, written into `partitions`. */
function fillWatermarks(context: AdminForwarderContext, id: number, partitions: PartitionInfo[], leads: (partition: number) => boolean): void {
  for (const info of partitions) {
    if (!leads(info.partition)) continue;
    const log = context.store.partition(id, info.partition);
    info.highWatermark = log.highWatermark;
    info.logStartOffset = log.logStartOffset;
    info.sizeBytes = log.sizeBytes;
  }
}

/**
 * DescribeTopic: the coordinator's answer, with each partition's
 * watermarks and size from its leader (this broker or a peer). A peer that
 * does not answer leaves its partitions' figures at 0.
 */
async function describeTopic(context: AdminForwarderContext, request: DescribeTopicRequest, local: boolean): Promise<DescribeTopicResponse> {
  const { cache, brokerId } = context;
  if (local) {
    const topic = await context.topics.resolve(request.name);
    const partitions = cache.ledPartitions(topic, brokerId).map((partition) => PartitionInfo.fromPartial({ partition, leaderId: brokerId }));
    fillWatermarks(context, topic.id, partitions, () => true);
    return { topic: undefined, partitions };
  }
  const described = (await context.forward('describeTopic', request, forwardTimeoutMs)) as DescribeTopicResponse;
  const id = described.topic?.id;
  const topic = cache.topic(request.name);
  if (id === undefined || topic?.id !== id) return described;
  fillWatermarks(context, id, described.partitions, (partition) => cache.leadership(topic, partition, brokerId).leads);
  const others = leadersElsewhere(context, topic).byAddress;
  await Promise.all(
    [...others].map(async ([address, partitions]) => {
      const theirs = await context.peers.describeTopic(address, request).catch(() => undefined);
      for (const part of theirs?.partitions ?? []) {
        const info = described.partitions.find((p) => p.partition === part.partition);
        if (!info || !partitions.includes(part.partition)) continue;
        info.highWatermark = part.highWatermark;
        info.logStartOffset = part.logStartOffset;
        info.sizeBytes = part.sizeBytes;
      }
    }),
  );
  return described;
}

/** How open a circuit is, to merge the states of several leaders' breakers. */
const circuitSeverity: Record<CircuitState, number> = {
  [CircuitState.CIRCUIT_STATE_UNSPECIFIED]: 0,
  [CircuitState.CIRCUIT_STATE_CLOSED]: 1,
  [CircuitState.CIRCUIT_STATE_HALF_OPEN]: 2,
  [CircuitState.CIRCUIT_STATE_OPEN]: 3,
  [CircuitState.UNRECOGNIZED]: 0,
};

/**
 * DescribeSubscription: the coordinator's answer (settings), with the
 * progress per partition and the members from every leader of the topic
 * (each leader tracks its partitions and the members streaming from it).
 * The circuit state is the most open one of the leaders' breakers.
 */
async function describeSubscription(context: AdminForwarderContext, request: DescribeSubscriptionRequest, local: boolean): Promise<DescribeSubscriptionResponse> {
  const { brokerId } = context;
  const described: DescribeSubscriptionResponse = local
    ? { subscription: undefined, partitions: [], members: [], circuitState: CircuitState.CIRCUIT_STATE_UNSPECIFIED }
    : ((await context.forward('describeSubscription', request, forwardTimeoutMs)) as DescribeSubscriptionResponse);
  const topic = local ? await context.topics.resolve(request.topic) : context.cache.topic(request.topic);
  if (!topic) return described;
  if (local) subscriptionOf(topic, request.name);
  const dispatcher = await context.registry.find(topic.id, request.name);
  const parts: Pick<DescribeSubscriptionResponse, 'partitions' | 'members' | 'circuitState'>[] = [];
  const withLag = (p: PartitionProgress): SubscriptionPartition => ({ ...p, lag: lagOf(p) });
  if (dispatcher) {
    parts.push({
      partitions: dispatcher.progress().map(withLag),
      members: dispatcher.memberInfo().map((m) => ({ ...m, brokerId, connectedAtMs: 0 })),
      circuitState: dispatcher.circuitState,
    });
  } else {
    // No member opened it here since this broker started: its progress as stored.
    const stored = await storedProgressOf(context.store, logsByTopic(context.store).get(topic.id), context.cache.ledPartitions(topic, brokerId), request.name);
    if (stored.length > 0) parts.push({ partitions: stored.map(withLag), members: [], circuitState: CircuitState.CIRCUIT_STATE_UNSPECIFIED });
  }
  if (!local) {
    const others = leadersElsewhere(context, topic).byAddress;
    const answers = await Promise.all([...others.keys()].map((address) => context.peers.describeSubscription(address, request).catch(() => undefined)));
    for (const answer of answers) if (answer) parts.push(answer);
  }
  if (parts.length === 0) return described;
  described.partitions = parts.flatMap((part) => part.partitions).sort((a, b) => a.partition - b.partition);
  described.members = parts.flatMap((part) => part.members);
  const states = parts.map((part) => part.circuitState);
  if (!local && described.circuitState !== CircuitState.CIRCUIT_STATE_UNSPECIFIED) states.push(described.circuitState);
  described.circuitState = states.reduce((worst, state) => (circuitSeverity[state] > circuitSeverity[worst] ? state : worst), CircuitState.CIRCUIT_STATE_UNSPECIFIED);
  return described;
}

/** The AdminService registration for the broker's server. */
export function adminForwarder(context: AdminForwarderContext): ServiceRegistration {
  const forward = (method: string, request: unknown): Promise<unknown> => context.forward(method, request, forwardTimeoutMs);
  const implementation: Record<string, ReturnType<typeof unary>> = {};
  for (const method of Object.keys(AdminServiceService)) {
    implementation[method] = unary((request: unknown) => forward(method, request));
  }
  implementation.describeTopic = unary((request: unknown, call) => describeTopic(context, request as DescribeTopicRequest, isLeaderLocal(call)));
  implementation.describeSubscription = unary((request: unknown, call) =>
    describeSubscription(context, request as DescribeSubscriptionRequest, isLeaderLocal(call)),
  );
  implementation.seek = unary((request: unknown, call) => seek(context, request as SeekRequest, isLeaderLocal(call)));
  implementation.readRecords = unary((request: unknown) => readRecords(context, request as ReadRecordsRequest));
  // About this process: never forwarded.
  implementation.describeBroker = unary(() => Promise.resolve(context.describeBroker()));
  return { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation };
}
