/**
 * The broker process: opens its storage, registers with the coordinator,
 * follows metadata, and serves ProducerService (the publish path),
 * ConsumerService (dispatch to subscription members) and AdminService
 * (forwarded to the coordinator, except what only this broker knows:
 * seek, leader watermarks, ReadRecords, DescribeBroker).
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { systemClock, systemRandom } from '@braid/core';
import type { Logger } from '@braid/core';
import { createServer, processMemory } from '@braid/server';
import type { RunningApp } from '@braid/server';
import { LogStore } from '@braid/storage';
import { brokerMetrics } from '@braid/telemetry';
import { adminForwarder } from './admin-forwarder.js';
import { observeBrokerGauges } from './broker-gauges.js';
import { brokerIdentity } from './broker-identity.js';
import type { BrokerConfig } from './config.js';
import { DeadLetterWriter } from './consume/dead-letter-writer.js';
import { DispatcherRegistry } from './consume/dispatcher-registry.js';
import { RetryTimers } from './consume/retry-timers.js';
import { StreamBuffers } from './consume/stream-buffers.js';
import { consumerService } from './consumer-service.js';
import { CoordinatorLink } from './coordinator-link.js';
import { MetadataCache } from './metadata-cache.js';
import { PeerAdmin } from './peer-admin.js';
import { PeerClients } from './peer-clients.js';
import type { TopicView } from './metadata-cache.js';
import { producerService } from './producer-service.js';
import { PublishForwarder } from './publish-forwarder.js';
import { PublishHandler } from './publish-handler.js';
import { SubscriptionResolver } from './subscription-resolver.js';
import { TopicResolver } from './topic-resolver.js';

/** A started broker. */
export interface BrokerApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
  /** The broker id. */
  brokerId: string;
}

/** Applies topic settings and deletions from a metadata change to storage. */
function applyMetadata(
  cache: MetadataCache,
  previous: ReadonlyMap<string, TopicView>,
  store: LogStore,
  brokerId: string,
  logger: Logger,
): void {
  for (const topic of cache.allTopics()) {
    for (let partition = 0; partition < topic.partitions; partition++) {
      if (!cache.leadership(topic, partition, brokerId).leads) continue;
      const log = store.partition(topic.id, partition);
      if (log.retention.maxAgeMs === topic.retentionMs && log.retention.maxBytes === topic.retentionBytes) continue;
      log.setRetention({ maxAgeMs: topic.retentionMs, maxBytes: topic.retentionBytes }).catch((error: unknown) => {
        logger.error({ err: error, topic: topic.name, partition }, 'applying retention settings failed');
      });
    }
  }
  for (const [name, old] of previous) {
    if (cache.topic(name)?.id === old.id) continue;
    logger.info({ topic: name, topicId: old.id }, 'topic deleted; dropping its data');
    store.dropTopic(old.id).catch((error: unknown) => { logger.error({ err: error, topic: name }, 'dropping topic data failed'); });
  }
}

/** Builds and starts the broker. */
export async function startBroker(config: BrokerConfig, logger: Logger): Promise<BrokerApp> {
  const brokerId = await brokerIdentity(config.dataDir, config.brokerId);
  const log = logger.child({ brokerId });
  const store = await LogStore.open(join(config.dataDir, 'log'), {
    logger: log.child({ component: 'storage' }),
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    tailCache: { maxBytes: config.tailCacheBytes },
  });
  // A failed RocksDB write leaves the store refusing everything: exit so that
  // a restart runs recovery, rather than serving errors forever.
  const storeWatch = setInterval(() => {
    if (!store.failed) return;
    log.error({ err: store.failed }, 'storage failed; exiting so that restart recovery runs');
    process.exit(1);
  }, 1000);
  storeWatch.unref();
  const cache = new MetadataCache();
  // Instruments on the meter provider `runApp` registered (with
  // --metrics-port), else the API's no-ops.
  const metrics = brokerMetrics();

  let port = config.port;
  const advertisedAddress = (): string => config.advertisedAddress || `${config.host}:${port}`;
  const link = new CoordinatorLink({
    coordinatorAddresses: config.coordinator,
    brokerId,
    advertisedAddress,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    logger: log.child({ component: 'coordinator-link' }),
    onMetadata: (metadata) => { cache.replace(metadata); },
    onLease: (leaderEpoch) => { cache.setLeaderEpoch(leaderEpoch); },
    onFenced: () => { cache.fence(); },
  });
  const topics = new TopicResolver(cache, (names) => link.fetchMetadata(names));
  const subscriptions = new SubscriptionResolver(cache, topics, link);
  // Publishes wake dispatch, and dispatch dead-letters through the publish
  // path: the callbacks below use `dispatchers`, built further down (they
  // run only once the server serves).
  // Clients of the other brokers: admin calls across leaders, forwarded publishes.
  const peerClients = new PeerClients();
  const forwarder = config.forwardToLeader ? new PublishForwarder(peerClients) : undefined;
  const handler = new PublishHandler({
    brokerId,
    store,
    cache,
    topics,
    clock: systemClock,
    memoryWatermarkBytes: config.memoryWatermarkBytes,
    onAppended: (topicId, partition) => { dispatchers.appended(topicId, partition); },
    forwarder,
    metrics,
  });
  const deadLetters = new DeadLetterWriter({
    store,
    clock: systemClock,
    resolveTopic: (name) => topics.resolve(name),
    createTopic: (name) => link.createTopic(name),
    append: async (topic, partition, record) => {
      const { results } = await handler.publish({
        topic,
        partition,
        records: [{ ...record, partition, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }],
        producerId: '',
        baseSequence: 0,
        leaderEpoch: 0,
        targetSubscription: '',
      });
      return results[0]?.offset ?? 0;
    },
  });
  const timers = new RetryTimers({
    store: store.retries(),
    clock: systemClock,
    logger: log.child({ component: 'retry-timers' }),
    onDue: (states) => { dispatchers.retriesDue(states); },
  });
  const deadLettered = { count: 0 };
  const dispatchers = new DispatcherRegistry({
    brokerId,
    store,
    cache,
    clock: systemClock,
    random: systemRandom,
    logger: log.child({ component: 'dispatch' }),
    deadLetters,
    timers,
    onDeadLettered: () => { deadLettered.count++; },
    metrics,
  });
  cache.on('change', (previous) => {
    applyMetadata(cache, previous, store, brokerId, log);
    dispatchers.refresh();
  });

  const peers = new PeerAdmin(peerClients);
  // What Subscribe streams hold for members, for DescribeBroker.
  const streamBuffers = new StreamBuffers();
  const stopGauges = observeBrokerGauges({ metrics, dispatchers, store, cache, streams: streamBuffers, brokerId, logger: log.child({ component: 'gauges' }) });
  const server = createServer({
    logger: log.child({ component: 'grpc' }),
    services: [
      producerService(handler),
      streamBuffers.track(consumerService(dispatchers, (open) => subscriptions.resolve(open))),
      adminForwarder({
        forward: (method, request, timeoutMs) => link.callAdmin(method, request, timeoutMs),
        store,
        brokerId,
        cache,
        topics,
        registry: dispatchers,
        peers,
        selfAddress: advertisedAddress,
        describeBroker: () => ({
          brokerId,
          address: advertisedAddress(),
          memory: processMemory(),
          consume: streamBuffers.stats(),
          deadLetteredRecords: deadLettered.count,
        }),
      }),
    ],
  });
  port = await server.listen(config.host, config.port);

  await link.start();
  await timers.start();
  server.setServing(true);
  log.info({ host: config.host, port, advertisedAddress: advertisedAddress(), dataDir: config.dataDir, coordinator: link.leader, coordinators: config.coordinator.join(','), heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, 'broker serving');
  return {
    port,
    brokerId,
    stop: async () => {
      clearInterval(storeWatch);
      stopGauges();
      await server.shutdown();
      timers.close();
      await dispatchers.close();
      await link.deregister();
      link.stop();
      peerClients.close();
      await store.close();
    },
  };
}
