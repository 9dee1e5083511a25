/**
 * OpenTelemetry metrics for Braid's server apps, served to Prometheus:
 * with `--metrics-port` (`BRAID_<APP>_METRICS_PORT`) the app registers a
 * global meter provider whose only reader is the Prometheus exporter, and
 * serves its text format at `http://<host>:<port>/metrics` (the app's
 * `--host`; port 0 picks a free one, logged). Without the option nothing is
 * registered, and every instrument of `@braid/telemetry` stays the API's
 * no-op. The service name is `OTEL_SERVICE_NAME`, else `braid-<app>`, as
 * for tracing.
 *
 * The HTTP server is this file's, not the exporter's: the exporter's own
 * server cannot tell which port it bound when asked for 0.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Logger } from '@braid/core';
import { serviceName } from './tracing-sdk.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Path of the Prometheus endpoint. */
export const metricsPath = '/metrics';

/** Metrics as started by `startMetrics`. */
export interface Metrics {
  /** The bound port. */
  readonly port: number;
  /** Where Prometheus scrapes. */
  readonly url: string;
  /** Stops serving and unregisters the meter provider. */
  shutdown(): Promise<void>;
}

/** Where metrics are served. */
export interface MetricsListen {
  /** Address to listen on (the app's `--host`). */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
}

/** `http://host:port/metrics`, with an IPv6 host in brackets. */
export function metricsUrl(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return `http://${bare.includes(':') ? `[${bare}]` : bare}:${port}${metricsPath}`;
}

function handler(exporter: PrometheusExporter): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    let path: string;
    try {
      path = new URL(request.url ?? '/', 'http://metrics').pathname;
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (path !== metricsPath) {
      response.writeHead(404).end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    exporter.getMetricsRequestHandler(request, response);
  };
}

function listen(server: Server, where: MetricsListen): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // A scraper's keep-alive connection would hold `close()` open.
    server.closeAllConnections();
    server.close(() => { resolve(); });
  });
}

/**
 * Registers the metrics SDK and serves `/metrics` for app `app` when
 * `where` is given (see the file comment); undefined otherwise. Rejects
 * when the port cannot be bound (the SDK is unregistered again).
 */
export async function startMetrics(app: string, where: MetricsListen | undefined, env: Env, logger: Logger): Promise<Metrics | undefined> {
  if (where === undefined) return undefined;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName(app, env) }),
    readers: [exporter],
  });
  const server = createServer(handler(exporter));
  let port: number;
  try {
    port = await listen(server, where);
  } catch (error) {
    await provider.shutdown();
    throw error;
  }
  metrics.setGlobalMeterProvider(provider);
  const url = metricsUrl(where.host, port);
  logger.info({ metricsUrl: url }, 'metrics on');
  return {
    port,
    url,
    shutdown: async () => {
      await close(server);
      metrics.disable();
      await provider.shutdown();
    },
  };
}
