/**
 * The coordinator process: cluster metadata (topics, placement,
 * subscriptions, brokers and their leases) in its metadata store (the
 * embedded one under `--data-dir`, or etcd with `--etcd-endpoints`), served
 * through `AdminService` and `CoordinatorService`. On the embedded store it
 * is the only coordinator; on etcd several run and the one elected through
 * etcd serves while the others stand by.
 */
import { systemClock } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { AdminServiceService, CoordinatorServiceService } from '@braid/proto';
import { createServer } from '@braid/server';
import type { BraidServer, RunningApp } from '@braid/server';
import { adminService } from './admin-service.js';
import { BrokerRegistry } from './broker-registry.js';
import type { CoordinatorConfig } from './config.js';
import { CoordinatorElection } from './coordinator-election.js';
import { observeCoordinatorGauges } from './coordinator-gauges.js';
import { coordinatorService } from './coordinator-service.js';
import { EmbeddedMetadataStore } from './embedded-metadata-store.js';
import { EtcdMetadataStore } from './etcd-metadata-store.js';
import { LeaderGate } from './leader-gate.js';
import { MetadataChanges } from './metadata-changes.js';
import { MetadataService } from './metadata-service.js';
import type { MetadataStore } from './metadata-store.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { TopicRegistry } from './topic-registry.js';

/** A started coordinator. */
export interface CoordinatorApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
}

/** The registries and services of a coordinator that leads, loaded from its store. */
interface LeaderParts {
  changes: MetadataChanges;
  brokers: BrokerRegistry;
  topics: TopicRegistry;
  subscriptions: SubscriptionRegistry;
  metadata: MetadataService;
}

/**
 * Loads the metadata from `store` into fresh registries: at start with the
 * embedded store, on winning the election with etcd (so a new leader reads
 * what its predecessor committed, never memory of its own). With etcd the
 * broker leases are kept in the store too, so a new leader gives every
 * broker that was live a full lease from its takeover instead of marking
 * all of them down.
 */
async function loadLeaderParts(store: MetadataStore, config: CoordinatorConfig, logger: Logger, clock: Clock, persistLeases: boolean): Promise<LeaderParts> {
  const changes = await MetadataChanges.open(store);
  const brokers = await BrokerRegistry.load({
    store,
    changes,
    clock,
    logger: logger.child({ component: 'brokers' }),
    leaseTtlMs: config.brokerLeaseMs,
    persistLeases,
  });
  const topics = await TopicRegistry.load({ store, changes, brokers, clock, logger: logger.child({ component: 'topics' }) });
  const subscriptions = await SubscriptionRegistry.load({ store, changes, topics, clock, logger: logger.child({ component: 'subscriptions' }) });
  const metadata = new MetadataService({ topics, subscriptions, brokers, changes, logger: logger.child({ component: 'metadata' }) });
  return { changes, brokers, topics, subscriptions, metadata };
}

/** Serves `parts` through `gate` and starts the lease expiry. */
function lead(gate: LeaderGate, parts: LeaderParts, address: () => string): void {
  const { brokers, changes, metadata, topics, subscriptions } = parts;
  gate.lead(CoordinatorServiceService, coordinatorService({ brokers, changes, metadata }));
  gate.lead(AdminServiceService, adminService({ topics, subscriptions, metadata, address }));
  brokers.start();
}

/** Builds and starts the coordinator: the single one on the embedded store, or a candidate for leadership on etcd. */
export async function startCoordinator(config: CoordinatorConfig, logger: Logger, clock: Clock = systemClock): Promise<CoordinatorApp> {
  return config.etcdEndpoints.length > 0 ? startOnEtcd(config, logger, clock) : startEmbedded(config, logger, clock);
}

function createCoordinatorServer(gate: LeaderGate, logger: Logger): BraidServer {
  return createServer({
    logger: logger.child({ component: 'grpc' }),
    services: [
      { name: 'braid.v1.CoordinatorService', definition: CoordinatorServiceService, implementation: gate.service(CoordinatorServiceService) },
      { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation: gate.service(AdminServiceService) },
    ],
  });
}

/** Stops what a leader runs, in order. */
async function stopLeader(parts: LeaderParts): Promise<void> {
  await parts.brokers.stop();
  await parts.changes.idle();
}

/** The single coordinator on the embedded store: it leads from the start. */
async function startEmbedded(config: CoordinatorConfig, logger: Logger, clock: Clock): Promise<CoordinatorApp> {
  const store = await EmbeddedMetadataStore.open(config.dataDir);
  try {
    const parts = await loadLeaderParts(store, config, logger, clock, false);
    const stopGauges = observeCoordinatorGauges(() => parts);
    const gate = new LeaderGate(() => undefined);
    const server = createCoordinatorServer(gate, logger);
    const port = await server.listen(config.host, config.port);
    lead(gate, parts, () => `${config.host}:${port}`);
    server.setServing(true);
    logger.info(
      {
        host: config.host,
        port,
        metadataStore: 'embedded',
        dataDir: config.dataDir,
        topics: parts.topics.list().length,
        subscriptions: parts.subscriptions.list().length,
        brokers: parts.brokers.list().length,
        metadataVersion: parts.changes.version,
        brokerLeaseMs: config.brokerLeaseMs,
      },
      'coordinator serving',
    );
    return {
      port,
      stop: async () => {
        // Watches never end on their own: end them first (brokers see
        // UNAVAILABLE and reconnect) so the server's drain does not wait
        // out its grace period for them.
        parts.metadata.close();
        await server.shutdown();
        stopGauges();
        await stopLeader(parts);
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * A coordinator on etcd: it listens at once and campaigns
 * (`coordinator-election.ts`). While another leads it is a standby: health
 * NOT_SERVING, every call UNAVAILABLE (`COORDINATOR_STANDBY`) naming the
 * leader. Once elected it fences the store with its election key, loads
 * the metadata and serves. Losing the leadership (or failing the campaign)
 * resolves `failed`: the process exits with code 1 at once, and a
 * supervisor restarts it as a standby. A graceful stop resigns, so a
 * standby takes over at once instead of after the lease TTL.
 */
async function startOnEtcd(config: CoordinatorConfig, logger: Logger, clock: Clock): Promise<CoordinatorApp> {
  const store = await EtcdMetadataStore.open(config.etcdEndpoints, { prefix: config.etcdPrefix, dialTimeoutMs: config.etcdDialTimeoutMs });
  // Built once the port is known (the campaign value is the address); the
  // standby answer reads it through the gate until then.
  const electionRef: { current?: CoordinatorElection } = {};
  const gate = new LeaderGate(() => electionRef.current?.leaderAddress());
  const server = createCoordinatorServer(gate, logger);
  let port: number;
  try {
    port = await server.listen(config.host, config.port);
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = config.advertisedAddress || `${config.host}:${port}`;
  const storeFields = { metadataStore: 'etcd', etcdEndpoints: config.etcdEndpoints.join(','), etcdPrefix: config.etcdPrefix };
  const running = CoordinatorElection.start({
    store,
    address,
    leaseTtlSeconds: config.etcdLeaseTtlS,
    clock,
    logger: logger.child({ component: 'election' }),
  });
  electionRef.current = running;
  logger.info({ host: config.host, port, address, ...storeFields, etcdLeaseTtlS: config.etcdLeaseTtlS }, 'coordinator standing by for the leadership');
  let parts: LeaderParts | undefined;
  const stopGauges = observeCoordinatorGauges(() => parts);
  let failed!: (reason: Error) => void;
  const failure = new Promise<Error>((resolve) => { failed = resolve; });
  void running.lost.then(failed);
  const promotion = running.elected.then(async () => {
    const electedAtMs = clock.now();
    parts = await loadLeaderParts(store, config, logger, clock, true);
    lead(gate, parts, () => address);
    server.setServing(true);
    logger.info(
      {
        host: config.host,
        port,
        address,
        ...storeFields,
        topics: parts.topics.list().length,
        subscriptions: parts.subscriptions.list().length,
        brokers: parts.brokers.list().length,
        metadataVersion: parts.changes.version,
        brokerLeaseMs: config.brokerLeaseMs,
        loadMs: clock.now() - electedAtMs,
      },
      'coordinator serving as the leader',
    );
  });
  promotion.catch((error: unknown) => {
    failed(new Error(`elected, but could not load the metadata: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
  });
  return {
    port,
    failed: failure,
    stop: async () => {
      parts?.metadata.close();
      await server.shutdown();
      stopGauges();
      if (parts) await stopLeader(parts);
      await running.resign();
      await store.close();
    },
  };
}
