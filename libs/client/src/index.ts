/**
 * The TypeScript SDK for Braid:
 *
 * - {@link Producer}: batched, pipelined, idempotent publishing with
 *   backpressure (`send`, `ready`, `flush`, `close`).
 * - {@link Admin}: topics and cluster metadata.
 * - {@link checkHealth}: the standard gRPC health check.
 *
 * Errors are `BraidError`s from `@braid/core` (gRPC `code`, `reason`,
 * `retriable`, `retryAfterMs`). `Consumer` and `DlqAdmin` follow with the
 * consume path.
 *
 * @packageDocumentation
 */
export { checkHealth } from './health.js';
export type { CheckHealthOptions, ServingStatus } from './health.js';
export { Admin } from './admin.js';
export type { AdminOptions, TopicSettings } from './admin.js';
export { Producer } from './producer.js';
export type { CloseOptions, ProducerOptions } from './producer.js';
export type { Bytes, ProducerRecord, RecordMetadata } from './records.js';
export type { ConnectionOptions } from './channels.js';
export { adminDefaults, channelDefaults, producerDefaults, producerRetryDefaults } from './defaults.js';
export { Durability, PartitionStatus } from '@braid/proto';
export type { DescribeTopicResponse, GetMetadataResponse, PartitionInfo, Topic, TopicConfig } from '@braid/proto';
