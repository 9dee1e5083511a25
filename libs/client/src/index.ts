/**
 * The TypeScript SDK for Braid:
 *
 * - {@link Producer}: batched, pipelined, idempotent publishing with
 *   backpressure (`send`, `ready`, `flush`, `close`).
 * - {@link Consumer}: a subscription's records as `for await` messages or
 *   key-ordered concurrent handlers (`run`), under credit, with batched acks,
 *   automatic lease extension and reconnects; settle with `msg.ack()`,
 *   `msg.nack()`, `msg.reject()`, `msg.extend()`, or let `run()` settle
 *   (return: ack; throw {@link PoisonMessageError}: reject; throw: nack).
 *   Optional `parse` (typed `msg.data`) and a local `rateLimit`.
 * - {@link Admin}: topics, subscriptions (create, update, delete, list,
 *   describe, seek), cluster metadata, a broker's own state
 *   (`describeBroker`: memory, Subscribe stream buffers) and raw partition
 *   reads without a subscription (`readRecords`).
 * - {@link decodeDeadLetter}: a record of a dead-letter topic as its
 *   `DeadLetter` (origin, value, headers, attempt ledger).
 * - {@link DlqAdmin}: dlq-admin's API: dead-letter queues and records,
 *   redrive (with progress), purge, the audit log and alert rules.
 * - {@link checkHealth}: the standard gRPC health check.
 *
 * Errors are `BraidError`s from `@braid/core` (gRPC `code`, `reason`,
 * `retriable`, `retryAfterMs`).
 *
 * @packageDocumentation
 */
export { checkHealth } from './health.js';
export type { CheckHealthOptions, ServingStatus } from './health.js';
export { Admin } from './admin.js';
export type { AdminOptions, ReadRecordsOptions, SeekTarget, SubscriptionSettings, TopicSettings } from './admin.js';
export { deadLetterOriginHeader, decodeDeadLetter, defaultDeadLetterTopic } from './dead-letters.js';
export { DlqAdmin } from './dlq-admin.js';
export type { DlqAdminOptions, MessageInput, RedriveCallOptions } from './dlq-admin.js';
export type { DeadLetterRecord } from './dead-letters.js';
export { Consumer } from './consumer.js';
export type {
  ConsumerCloseOptions,
  ConsumerOptions,
  MessageHandler,
  ParseRequirement,
  PayloadParser,
  RateLimitOptions,
  RunOptions,
} from './consumer.js';
export { Message } from './message.js';
export { PoisonMessageError } from './poison-message-error.js';
export type { Disposition, NackOptions, RejectOptions } from './message.js';
export { Producer } from './producer.js';
export type { CloseOptions, ProducerOptions } from './producer.js';
export type { Bytes, ProducerRecord, RecordMetadata } from './records.js';
export type { ConnectionOptions } from './channels.js';
export {
  adminDefaults,
  channelDefaults,
  consumerDefaults,
  consumerReconnectDefaults,
  dlqAdminClientDefaults,
  producerDefaults,
  producerRetryDefaults,
} from './defaults.js';
export { CircuitState, Durability, Jitter, PartitionStatus, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
/** How one delivery attempt of a dead letter ended (the proto `Disposition`; `Disposition` here is a message's settle outcome). */
export { Disposition as AttemptDisposition } from '@braid/proto';
export { AlertEventKind, AlertMetric, AlertStatus, WebhookDeliveryStatus } from '@braid/proto';
export type {
  AlertCounters,
  AlertEvent,
  AlertRule,
  AlertState,
  AuditEntry,
  DeadLetterFilter,
  DeadLetterQueue,
  DeadLetterRef,
  DeadLetterSelection,
  ListAlertStatesResponse,
  ListAuditEntriesResponse,
  ListDeadLettersResponse,
  PurgeResponse,
  RedriveResponse,
  WebhookDelivery,
  Attempt,
  DeadLetter,
  Origin,
  ReadRecordsResponse,
  StoredRecord,
  ConsumeBuffers,
  DescribeBrokerResponse,
  DescribeSubscriptionResponse,
  DescribeTopicResponse,
  GetMetadataResponse,
  MemberInfo,
  PartitionInfo,
  PartitionPosition,
  ProcessMemory,
  Subscription,
  SubscriptionConfig,
  SubscriptionPartition,
  Topic,
  TopicConfig,
} from '@braid/proto';
