/**
 * Span names, attribute keys and values of the OpenTelemetry messaging
 * semantic conventions as Braid uses them, plus Braid's own attributes.
 * One place, so the SDK, the broker and dlq-admin name things alike.
 */

/** Attribute keys. */
export const attr = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  attempt: 'braid.delivery.attempt',
  disposition: 'braid.disposition',
} as const;

/** `messaging.system` of every Braid span. */
export const messagingSystem = 'braid';

/** `messaging.operation.type` values (semantic conventions). */
export type OperationType = 'create' | 'send' | 'receive' | 'process' | 'settle';

/** `braid.disposition` values: how a delivery attempt ended, or what an operator did. */
export type Disposition = 'ack' | 'nack' | 'reject' | 'dead_letter' | 'redrive';

/** `messaging.message.id` of a record: `<partition>:<offset>` of its topic. */
export function messageId(partition: number, offset: number): string {
  return `${partition}:${offset}`;
}

/**
 * `error.type` of a failure: a Braid error's machine-readable reason
 * (`NOT_LEADER`, `MEMORY_PRESSURE`, ...), else the error's class name.
 */
export function errorType(error: unknown): string {
  const fields = typeof error === 'object' && error !== null ? (error as { reason?: unknown; name?: unknown }) : {};
  if (typeof fields.reason === 'string' && fields.reason !== '') return fields.reason;
  return typeof fields.name === 'string' && fields.name !== '' ? fields.name : 'Error';
}
