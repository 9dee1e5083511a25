/**
 * The dlq-admin process: `DlqAdminService` (and later the web console). A
 * walking skeleton today: every Braid RPC answers UNIMPLEMENTED, health and
 * reflection work.
 */
import type { Logger } from '@braid/core';
import { DlqAdminServiceService } from '@braid/proto';
import { createServer, unimplementedService } from '@braid/server';
import type { RunningApp } from '@braid/server';
import type { DlqAdminConfig } from './config.js';

/** A started dlq-admin. */
export interface DlqAdminApp extends RunningApp {
  /** The bound gRPC port. */
  port: number;
}

/** Builds and starts dlq-admin. */
export async function startDlqAdmin(config: DlqAdminConfig, logger: Logger): Promise<DlqAdminApp> {
  const server = createServer({
    logger: logger.child({ component: 'grpc' }),
    services: [
      { name: 'braid.v1.DlqAdminService', definition: DlqAdminServiceService, implementation: unimplementedService(DlqAdminServiceService) },
    ],
  });
  const port = await server.listen(config.host, config.port);
  server.setServing(true);
  logger.info({ host: config.host, port }, 'dlq-admin serving');
  return { port, stop: () => server.shutdown() };
}
