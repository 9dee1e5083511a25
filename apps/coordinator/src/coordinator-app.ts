/**
 * The coordinator process: cluster metadata behind `CoordinatorService` and
 * `AdminService`. A walking skeleton today: every Braid RPC answers
 * UNIMPLEMENTED, health and reflection work.
 */
import type { Logger } from '@braid/core';
import { AdminServiceService, CoordinatorServiceService } from '@braid/proto';
import { createServer, unimplementedService } from '@braid/server';
import type { RunningApp } from '@braid/server';
import type { CoordinatorConfig } from './config.js';

/** A started coordinator. */
export interface CoordinatorApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
}

/** Builds and starts the coordinator. */
export async function startCoordinator(config: CoordinatorConfig, logger: Logger): Promise<CoordinatorApp> {
  const server = createServer({
    logger: logger.child({ component: 'grpc' }),
    services: [
      { name: 'braid.v1.CoordinatorService', definition: CoordinatorServiceService, implementation: unimplementedService(CoordinatorServiceService) },
      { name: 'braid.v1.AdminService', definition: AdminServiceService, implementation: unimplementedService(AdminServiceService) },
    ],
  });
  const port = await server.listen(config.host, config.port);
  server.setServing(true);
  logger.info({ host: config.host, port, dataDir: config.dataDir }, 'coordinator serving');
  return { port, stop: () => server.shutdown() };
}
