/**
 * Settings every Braid server app shares (listen address, data directory,
 * log level, Prometheus metrics port), with per-app environment variable
 * names so several apps can be configured side by side on one host
 * (`BRAID_BROKER_PORT`, `BRAID_COORDINATOR_PORT`, ...).
 */
import { z } from 'zod';
import type { ConfigOption } from './config.js';
import { logLevels } from './logger.js';

/** Defaults that differ per app. */
export interface AppOptionDefaults {
  /** Environment prefix after `BRAID_`, e.g. `BROKER`. */
  envPrefix: string;
  /** Default gRPC port. */
  port: number;
  /** Default data directory. */
  dataDir: string;
}

/** The shared options of a server app. */
export function serverAppOptions(defaults: AppOptionDefaults): ConfigOption[] {
  const env = (name: string): string => `BRAID_${defaults.envPrefix}_${name}`;
  return [
    { key: 'host', flag: '--host <host>', env: env('HOST'), description: 'address to listen on', default: '127.0.0.1' },
    { key: 'port', flag: '--port <port>', env: env('PORT'), description: 'gRPC port (0 picks a free one)', default: String(defaults.port) },
    { key: 'dataDir', flag: '--data-dir <dir>', env: env('DATA_DIR'), description: 'where storage lives', default: defaults.dataDir },
    { key: 'logLevel', flag: '--log-level <level>', env: 'BRAID_LOG_LEVEL', description: `one of ${logLevels.join(', ')}`, default: 'info' },
    // No default: metrics are off unless asked for (`metrics-sdk.ts`).
    {
      key: 'metricsPort',
      flag: '--metrics-port <port>',
      env: env('METRICS_PORT'),
      description: 'serve Prometheus metrics at http://<host>:<port>/metrics (0 picks a free one; default: off)',
    },
  ];
}

/** zod shape validating `serverAppOptions`. */
export const serverAppSchema = {
  host: z.string().min(1, 'must not be empty'),
  port: z.coerce.number().int('must be an integer').min(0).max(65535),
  dataDir: z.string().min(1, 'must not be empty'),
  logLevel: z.enum(logLevels),
  /** Undefined: no metrics endpoint. */
  metricsPort: z.coerce.number().int('must be an integer').min(0).max(65535).optional(),
};

/** Whether `host` listens on every interface (`0.0.0.0`, `::`): not an address anyone can connect to. */
export function isWildcardHost(host: string): boolean {
  return ['0.0.0.0', '::', '[::]'].includes(host.trim());
}

/**
 * A zod check for apps that register their own address with others: with
 * a wildcard `host`, `advertisedAddress` must be given, since other hosts
 * cannot reach `0.0.0.0:<port>` (Kafka refuses the same for
 * `advertised.listeners`). Use as `schema.superRefine(requireAdvertisedAddress)`.
 */
export function requireAdvertisedAddress(config: { host: string; advertisedAddress: string }, context: z.core.$RefinementCtx): void {
  if (config.advertisedAddress === '' && isWildcardHost(config.host)) {
    context.addIssue({
      code: 'custom',
      path: ['advertisedAddress'],
      message: `required when listening on ${config.host}: others cannot connect to a wildcard address; give the host:port they reach this app at`,
    });
  }
}
