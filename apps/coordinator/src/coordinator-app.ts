/**
 * The coordinator process: cluster metadata (topics, placement,
 * subscriptions, brokers and their leases) in its metadata store (the
 * embedded one under `--data-dir`, or etcd with `--etcd-endpoints`), served
 * through `AdminService` and `CoordinatorService`.
 */
import { systemClock } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { AdminServiceService, CoordinatorServiceService } from '@braid/proto';
import { createServer } from '@braid/server';
import type { RunningApp } from '@braid/server';
import { adminService } from './admin-service.js';
import { BrokerRegistry } from './broker-registry.js';
import type { CoordinatorConfig } from './config.js';
import { coordinatorService } from './coordinator-service.js';
import { EmbeddedMetadataStore } from './embedded-metadata-store.js';
import { EtcdMetadataStore } from './etcd-metadata-store.js';
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

/**
 * The store `config` selects: etcd when `--etcd-endpoints` is given, else
 * the embedded store under `--data-dir`.
 *
 * With etcd, several coordinators could share the metadata, but each loads
 * it once and then writes from memory, so until leader election is built
 * exactly one coordinator may run per etcd prefix. Election belongs here:
 * campaign (etcd3's `Election`) after opening the store and before loading
 * the registries, load only once elected, stop serving on losing the
 * leadership, and fence every commit with the leader key (see
 * `EtcdMetadataStore.commit`).
 */
async function openMetadataStore(config: CoordinatorConfig): Promise<MetadataStore> {
  if (config.etcdEndpoints.length > 0) {
    return EtcdMetadataStore.open(config.etcdEndpoints, { prefix: config.etcdPrefix, dialTimeoutMs: config.etcdDialTimeoutMs });
  }
  return EmbeddedMetadataStore.open(config.dataDir);
}

/** Builds and starts the coordinator. */
export async function startCoordinator(config: CoordinatorConfig, logger: Logger, clock: Clock = systemClock): Promise<CoordinatorApp> {
  const store = await openMetadataStore(config);
  const storeFields =
    config.etcdEndpoints.length > 0
      ? { metadataStore: 'etcd', etcdEndpoints: config.etcdEndpoints.join(','), etcdPrefix: config.etcdPrefix }
      : { metadataStore: 'embedded', dataDir: config.dataDir };
  try {
    const changes = await MetadataChanges.open(store);
    const brokers = await BrokerRegistry.load({
      store,
      changes,
      clock,
      logger: logger.child({ component: 'brokers' }),
      leaseTtlMs: config.brokerLeaseMs,
    });
    const topics = await TopicRegistry.load({ store, changes, brokers, clock, logger: logger.child({ component: 'topics' }) });
    const subscriptions = await SubscriptionRegistry.load({ store, changes, topics, clock, logger: logger.child({ component: 'subscriptions' }) });
    const metadata = new MetadataService({ topics, subscriptions, brokers, changes, logger: logger.child({ component: 'metadata' }) });
    // The bound port once listening (`--port 0` picks one).
    let port = config.port;
    const server = createServer({
      logger: logger.child({ component: 'grpc' }),
      services: [
        { name: 'braid.v1.CoordinatorService', definition: CoordinatorServiceService, implementation: coordinatorService({ brokers, changes, metadata }) },
        { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation: adminService({ topics, subscriptions, metadata, address: () => `${config.host}:${port}` }) },
      ],
    });
    port = await server.listen(config.host, config.port);
    brokers.start();
    server.setServing(true);
    logger.info(
      { host: config.host, port, ...storeFields, topics: topics.list().length, subscriptions: subscriptions.list().length, brokers: brokers.list().length, metadataVersion: changes.version, brokerLeaseMs: config.brokerLeaseMs },
      'coordinator serving',
    );
    return {
      port,
      stop: async () => {
        // Watches never end on their own: end them first (brokers see
        // UNAVAILABLE and reconnect) so the server's drain does not wait
        // out its grace period for them.
        metadata.close();
        await server.shutdown();
        await brokers.stop();
        await changes.idle();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
