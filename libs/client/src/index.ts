/**
 * The TypeScript SDK for Braid:
 *
 * - {@link Producer}: batched, pipelined, idempotent publishing with
 *   backpressure (`send`, `ready`, `flush`, `close`).
 * - {@link Consumer}: a subscription's records as `for await` messages or
 *   key-ordered concurrent handlers (`run`), under credit, with batched acks,
 *   automatic lease extension and reconnects; settle with `msg.ack()`,
 *   `msg.nack()`, `msg.reject()`, `msg.extend()`.
 * - {@link Admin}: topics, subscriptions (create, update, delete, list,
 *   describe, seek) and cluster metadata.
 * - {@link checkHealth}: the standard gRPC health check.
 *
 * Errors are `BraidError`s from `@braid/core` (gRPC `code`, `reason`,
 * `retriable`, `retryAfterMs`). `DlqAdmin` follows with the dead-letter
 * work.
 *
 * @packageDocumentation
 */
export { checkHealth } from './health.js';
export type { CheckHealthOptions, ServingStatus } from './health.js';
export { Admin } from './admin.js';
export type { AdminOptions, SeekTarget, SubscriptionSettings, TopicSettings } from './admin.js';
export { Consumer } from './consumer.js';
export type { ConsumerCloseOptions, ConsumerOptions, MessageHandler, RunOptions } from './consumer.js';
export { Message } from './message.js';
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
  producerDefaults,
  producerRetryDefaults,
} from './defaults.js';
export { CircuitState, Durability, Jitter, PartitionStatus, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
export type {
  DescribeSubscriptionResponse,
  DescribeTopicResponse,
  GetMetadataResponse,
  MemberInfo,
  PartitionInfo,
  PartitionPosition,
  Subscription,
  SubscriptionConfig,
  SubscriptionPartition,
  Topic,
  TopicConfig,
} from '@braid/proto';
