/**
 * Test tooling for code instrumented with `@braid/telemetry`: an
 * OpenTelemetry SDK registered globally with an in-memory span exporter,
 * and a metric reader collected on demand. For tests only (the SDK packages
 * are development dependencies): `import { recordSpans } from '@braid/telemetry/testing'`.
 */
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Registers a tracer provider exporting to memory and the W3C propagator
 * for this process, as an application would, and returns the exporter
 * (`getFinishedSpans()`).
 */
export function recordSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return exporter;
}

/** A metric reader collected on demand: `byName()` maps metric names to their data. */
export class TestMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}

  async byName(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
  }
}
