/**
 * The standard gRPC health check (`grpc.health.v1.Health/Check`) as one
 * promise, for `braid health`, scripts and tests that wait for a server.
 */
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { fromGrpcError } from '@braid/core';

/** A serving status as the health service reports it. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthClient extends Client {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: { status: ServingStatus }) => void,
  ): void;
}

type HealthClientConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

let healthClientConstructor: HealthClientConstructor | undefined;

function healthClient(address: string): HealthClient {
  if (!healthClientConstructor) {
    const loaded = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: HealthClientConstructor } } };
    };
    healthClientConstructor = loaded.grpc.health.v1.Health;
  }
  return new healthClientConstructor(address, credentials.createInsecure());
}

/** Options of `checkHealth`. */
export interface CheckHealthOptions {
  /** Service to ask about; empty (default) for the whole server. */
  service?: string;
  /** Give up after this long (ms). Default 3000. */
  timeoutMs?: number;
}

/**
 * Asks `address` (host:port) for its serving status. Rejects with a
 * `BraidError` (UNAVAILABLE when nothing listens, DEADLINE_EXCEEDED on
 * timeout, NOT_FOUND for an unknown service).
 */
export function checkHealth(address: string, options: CheckHealthOptions = {}): Promise<ServingStatus> {
  const client = healthClient(address);
  return new Promise<ServingStatus>((resolve, reject) => {
    client.check({ service: options.service ?? '' }, { deadline: Date.now() + (options.timeoutMs ?? 3000) }, (error, response) => {
      client.close();
      if (error) reject(fromGrpcError(error));
      else resolve(response?.status ?? 'UNKNOWN');
    });
  });
}
