/**
 * The broker process: its gRPC server and (as the publish and consume paths
 * land) its storage and dispatch. A walking skeleton today: every Braid RPC
 * answers UNIMPLEMENTED, health and reflection work.
 */
import type { Logger } from '@braid/core';
import { AdminServiceService, ConsumerServiceService, ProducerServiceService } from '@braid/proto';
import { createServer, unimplementedService } from '@braid/server';
import type { BraidServer, RunningApp } from '@braid/server';
import type { BrokerConfig } from './config.js';

/** A started broker. */
export interface BrokerApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
}

/** Builds and starts the broker. */
export async function startBroker(config: BrokerConfig, logger: Logger): Promise<BrokerApp> {
  const server: BraidServer = createServer({
    logger: logger.child({ component: 'grpc' }),
    services: [
      { name: 'braid.v1.ProducerService', definition: ProducerServiceService, implementation: unimplementedService(ProducerServiceService) },
      { name: 'braid.v1.ConsumerService', definition: ConsumerServiceService, implementation: unimplementedService(ConsumerServiceService) },
      { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation: unimplementedService(AdminServiceService) },
    ],
  });
  const port = await server.listen(config.host, config.port);
  server.setServing(true);
  logger.info({ host: config.host, port, dataDir: config.dataDir }, 'broker serving');
  return {
    port,
    stop: () => server.shutdown(),
  };
}
