/**
 * OpenTelemetry tracing for Braid's server apps, configured by the standard
 * `OTEL_*` environment variables, and off unless they ask for it. This is
 * where Braid's apps choose the OpenTelemetry SDK; every library
 * (`@braid/telemetry`, the client SDK) uses the API only.
 *
 * On when `OTEL_TRACES_EXPORTER` is `otlp` or `console`, or when an OTLP
 * endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` keeps it off. The OTLP protocol comes from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`:
 * `http/protobuf` (default), `http/json` or `grpc`. The SDK itself reads
 * endpoints, headers, `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*`; the
 * service name is `OTEL_SERVICE_NAME`, else `braid-<app>`. The W3C trace
 * context propagator is registered with it, and an AsyncLocalStorage
 * context manager for apps that run work inside active spans.
 */
import { ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Logger } from '@braid/core';

type Env = Readonly<Record<string, string | undefined>>;

/** Tracing as started by `startTracing`. */
export interface Tracing {
  /** What exports the spans (`otlp/<protocol>` or `console`). */
  readonly exporter: string;
  /** Flushes pending spans and stops. */
  shutdown(): Promise<void>;
}

/** Which exporter the environment asks for, or undefined when tracing stays off. */
export function tracesExporterFrom(env: Env): 'otlp' | 'console' | undefined {
  if (env['OTEL_SDK_DISABLED']?.toLowerCase() === 'true') return undefined;
  const named = env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase();
  if (named === 'none') return undefined;
  if (named === 'console') return 'console';
  if (named === 'otlp') return 'otlp';
  if (named !== undefined && named !== '') throw new Error(`OTEL_TRACES_EXPORTER=${named} is not supported: use otlp, console or none`);
  return env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ? 'otlp' : undefined;
}

function otlpExporter(env: Env): { exporter: SpanExporter; name: string } {
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf').trim().toLowerCase();
  switch (protocol) {
    case 'grpc':
      return { exporter: new GrpcTraceExporter(), name: 'otlp/grpc' };
    case 'http/json':
      return { exporter: new JsonTraceExporter(), name: 'otlp/http-json' };
    case 'http/protobuf':
      return { exporter: new ProtobufTraceExporter(), name: 'otlp/http-protobuf' };
    default:
      throw new Error(`OTLP protocol ${protocol} is not supported: use grpc, http/protobuf or http/json`);
  }
}

/** The `service.name` of app `app`: `OTEL_SERVICE_NAME`, else `braid-<app>`. */
export function serviceName(app: string, env: Env): string {
  return env['OTEL_SERVICE_NAME'] || `braid-${app}`;
}

/** How an app uses tracing. */
export interface TracingOptions {
  /**
   * Whether the app runs work inside active spans (`context.with`), so that
   * spans started and lines logged in it find their parent across awaits.
   * That takes an AsyncLocalStorage context manager, which on Node 20 puts
   * an async hook on every promise of the process; the broker, whose spans
   * get explicit parents and links and whose hot path makes many promises,
   * goes without it (issue 8: it cost the broker about 2.5 us of CPU per record at 1%
   * sampling).
   */
  activeSpans: boolean;
}

/** Starts tracing for app `app` when the environment asks for it (see the file comment). */
export function startTracing(app: string, env: Env, logger: Logger, options: TracingOptions = { activeSpans: true }): Tracing | undefined {
  const kind = tracesExporterFrom(env);
  if (kind === undefined) return undefined;
  const { exporter, name } = kind === 'console' ? { exporter: new ConsoleSpanExporter(), name: 'console' } : otlpExporter(env);
  const service = serviceName(app, env);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // `null`: no context manager (the API's no-op one stays); undefined: the default one.
  provider.register(options.activeSpans ? {} : { contextManager: null });
  logger.info({ exporter: name, serviceName: service }, 'tracing on');
  return { exporter: name, shutdown: () => provider.shutdown() };
}
