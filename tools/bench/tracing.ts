/**
 * Tracing for the consume benchmark (`--trace-sample <ratio>`): the bench
 * process (the application) registers an OpenTelemetry SDK with a
 * parent-based trace-id-ratio sampler, and the brokers get the same through
 * OTEL_* variables; both export over OTLP/HTTP (protobuf) to a sink started
 * here that counts what arrives and discards it. What tracing costs is then
 * the difference to a run without the option.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';

/** A running sink and the registered SDK. */
export interface BenchTracing {
  /** OTEL_* variables for the brokers. */
  readonly brokerEnv: Record<string, string>;
  /** Export requests and bytes the sink received so far. */
  received(): { requests: number; bytes: number };
  /** Flushes the bench's spans and stops the sink. */
  stop(): Promise<void>;
}

/** Starts the sink and registers the SDK in this process (see the file comment). */
export async function startBenchTracing(ratio: number): Promise<BenchTracing> {
  const counts = { requests: 0, bytes: 0 };
  const sink = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => { counts.bytes += chunk.length; });
    request.on('end', () => {
      counts.requests++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const address = sink.address();
  if (address === null || typeof address === 'string') throw new Error('trace sink has no port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  const provider = new NodeTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    brokerEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(ratio) },
    received: () => ({ ...counts }),
    stop: async () => {
      await provider.shutdown();
      sink.close();
      await once(sink, 'close');
    },
  };
}
