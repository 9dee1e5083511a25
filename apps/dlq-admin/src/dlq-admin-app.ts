/**
 * The dlq-admin process: opens its store under the data dir, loads the
 * index, connects to the cluster (`--broker`), serves `DlqAdminService`
 * (health and reflection too) and the web console with its JSON API
 * (`http/`, `--http-port`; up before the health check says SERVING), and
 * polls the dead-letter topics in the background. Stops in reverse: stop serving, stop running redrives, stop
 * polling, close producers and the store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '@braid/core';
import type { Logger } from '@braid/core';
import { observeDeadLetterQueues } from '@braid/telemetry';
import { Admin } from '@braid/client';
import { DlqAdminServiceService } from '@braid/proto';
import { createServer, isWildcardHost } from '@braid/server';
import type { RunningApp } from '@braid/server';
import { AlertMonitor } from './alerts/alert-monitor.js';
import { AlertService } from './alerts/alert-service.js';
import { fetchPost } from './alerts/webhook-post.js';
import { alertDefaults } from './alerts/alert-defaults.js';
import { AuditLog } from './audit-log.js';
import type { DlqAdminConfig } from './config.js';
import { DlqIndexer } from './dlq-indexer.js';
import { DlqService } from './dlq-service.js';
import { DlqStore } from './dlq-store.js';
import { dlqAdminGrpcService } from './grpc-service.js';
import { startHttpServer } from './http/http-server.js';
import { QueueRegistry } from './queue-registry.js';
import { RedriveProducers } from './redrive-producers.js';

/** A started dlq-admin. */
export interface DlqAdminApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
  /** The service layer (for the web console's HTTP API). */
  service: DlqService;
  /** The alert rules' API (for the web console's HTTP API). */
  alerts: AlertService;
  /** The bound port of the web console and its JSON API. */
  httpPort: number;
}

/** Builds and starts dlq-admin. */
export async function startDlqAdmin(config: DlqAdminConfig, logger: Logger): Promise<DlqAdminApp> {
  const clock = systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const store = await DlqStore.open(join(config.dataDir, 'db'));
  const admin = new Admin({ brokers: config.brokers });
  const queues = new QueueRegistry();
  // DLQ depth and oldest age as metrics (served with --metrics-port).
  const stopQueueMetrics = observeDeadLetterQueues(() =>
    queues.list().map((queue) => ({
      topic: queue.topic,
      subscription: queue.subscription,
      depth: queue.depth,
      oldestAgeMs: Math.max(0, clock.now() - (queue.oldest()?.deadLetteredAtMs ?? clock.now())),
    })),
  );
  const indexer = new DlqIndexer({ admin, store, queues, clock, logger, pollIntervalMs: config.pollIntervalMs });
  await indexer.load();
  const producers = new RedriveProducers(config.brokers, logger.child({ component: 'redrive' }));
  const audit = await AuditLog.open(store, clock);
  const service = new DlqService({
    admin,
    store,
    queues,
    indexer,
    producers,
    audit,
    adminToken: config.adminToken,
    redriveLimit: config.redriveLimit,
    clock,
    logger,
  });
  // Alerts (apps/dlq-admin/src/alerts): rules checked against the queue summaries, notices POSTed to webhooks.
  const alertMonitor = await AlertMonitor.open({
    store,
    queues: async () => (await service.listQueues({ topic: '', refresh: false })).queues,
    webhooks: config.alertWebhooks,
    post: fetchPost(alertDefaults.webhookTimeoutMs),
    intervalMs: config.alertIntervalMs,
    webhookDeadlineMs: config.alertWebhookDeadlineMs,
    clock,
    logger,
  });
  const alerts = new AlertService({ monitor: alertMonitor, service, admin, clock });
  const server = createServer({
    logger: logger.child({ component: 'grpc' }),
    services: [{ name: 'braid.v1.DlqAdminService', definition: DlqAdminServiceService, implementation: dlqAdminGrpcService(service, alerts) }],
  });
  const port = await server.listen(config.host, config.port);
  // Web console: HTTP server + JSON API over the same service (apps/dlq-admin/src/http).
  const http = await startHttpServer({
    service,
    alerts,
    host: config.host,
    port: config.httpPort,
    consoleDir: config.consoleDir === '' ? fileURLToPath(new URL('console', import.meta.url)) : config.consoleDir,
    adminTokenRequired: config.adminToken !== '',
    clock,
    logger: logger.child({ component: 'http' }),
  }).catch(async (error: unknown) => {
    await server.shutdown();
    throw error;
  });
  indexer.start();
  alertMonitor.start();
  server.setServing(true);
  logger.info({ host: config.host, port, httpPort: http.port, console: http.url, brokers: config.brokers, adminToken: config.adminToken !== '' }, 'dlq-admin serving');
  if (config.adminToken === '' && isWildcardHost(config.host)) {
    logger.warn({ host: config.host }, 'listening on every interface without BRAID_ADMIN_TOKEN: anyone who can reach this port can redrive and purge');
  }
  return {
    port,
    httpPort: http.port,
    service,
    alerts,
    stop: async () => {
      stopQueueMetrics();
      await Promise.all([server.shutdown(), http.close(), service.close(), alertMonitor.stop()]);
      await indexer.stop();
      await producers.close();
      admin.close();
      await store.close();
    },
  };
}
