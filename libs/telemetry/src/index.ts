/**
 * Braid's OpenTelemetry instrumentation, on `@opentelemetry/api` only:
 * trace context in record headers, span helpers named per the messaging
 * semantic conventions, metric instruments and attribute names. Libraries
 * depend on this; only apps (and the applications embedding the SDK)
 * choose and register an OpenTelemetry SDK. Until one is registered
 * everything here is a no-op and `tracingEnabled()` is false.
 *
 * @packageDocumentation
 */
export { attr, errorType, messageId, messagingSystem } from './messaging.js';
export type { Disposition, OperationType } from './messaging.js';
export { extractTraceContext, injectTraceContext, linkedSpanContext, sampledTraceparent } from './trace-context.js';
export type { Headers } from './trace-context.js';
export {
  endWhenSettled,
  endFailed,
  endWithError,
  startProcessSpan,
  startPublishSpan,
  startRecordSpan,
  startRedriveSpan,
  startSendSpan,
  startSettleSpan,
  tracingEnabled,
} from './tracing.js';
export type { SpanTarget } from './tracing.js';
export { brokerMetrics, clientMetrics, coordinatorMetrics, dlqAdminMetrics, durationBuckets, metricNames, observeDeadLetterQueues } from './metrics.js';
export type { BrokerMetrics, CoordinatorMetrics, DeadLetterQueueFigures, DlqAdminMetrics, ObserveGauges } from './metrics.js';
