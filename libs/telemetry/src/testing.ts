/**
 * Test tooling for code instrumented with `@braid/telemetry`: an
 * OpenTelemetry SDK registered globally with an in-memory span exporter,
 * and a metric reader collected on demand. For tests only (the SDK packages
 * are development dependencies): `import { recordSpans } from '@braid/telemetry/testing'`.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Sampler } from '@opentelemetry/sdk-trace-base';

/** How `recordSpans` sets the SDK up. */
export interface RecordSpansOptions {
  /** The provider's sampler (default: the SDK's, parent-based always-on). */
  sampler?: Sampler;
  /** Also register an async-local-storage context manager, so `context.with` carries an active span across awaits (as `NodeTracerProvider.register()` does). */
  contextManager?: boolean;
}

/**
 * Registers a tracer provider exporting to memory and the W3C propagator
 * for this process, as an application would, and returns the exporter
 * (`getFinishedSpans()`).
 */
export function recordSpans(options: RecordSpansOptions = {}): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const sampler = options.sampler === undefined ? {} : { sampler: options.sampler };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ ...sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  if (options.contextManager === true) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
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
