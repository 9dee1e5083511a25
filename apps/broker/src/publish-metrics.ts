/**
 * The publish path's metrics: records appended (per topic and partition,
 * once durable, one `add` per partition of a request), records refused
 * (with `error.type`), and each request's duration from receipt until its
 * records are durable. Attribute objects are built once per topic and
 * partition and reused.
 *
 * Only topics that exist are named: a request for an unknown topic is not
 * counted, so that clients cannot grow the number of series at will.
 */
import type { Attributes } from '@opentelemetry/api';
import { attr, errorType } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';

/** See the file comment. */
export class PublishMetrics {
  /** Topic name -> attributes of the topic, and of each partition by index. */
  private readonly topics = new Map<string, { topic: Attributes; partitions: Attributes[]; errors: Map<string, Attributes> }>();

  constructor(private readonly instruments: BrokerMetrics) {}

  /** Whether to measure at all (see `BrokerMetrics.enabled`). */
  get enabled(): boolean {
    return this.instruments.enabled;
  }

  /** `count` records of `partition` were appended and are durable. */
  published(topic: string, partition: number, count: number): void {
    const entry = this.entry(topic);
    let attributes = entry.partitions[partition];
    if (!attributes) {
      attributes = { ...entry.topic, [attr.partition]: String(partition) };
      entry.partitions[partition] = attributes;
    }
    this.instruments.published.add(count, attributes);
  }

  /** A request to `topic` succeeded after `seconds`. */
  durable(topic: string, seconds: number): void {
    this.instruments.publishDuration.record(seconds, this.entry(topic).topic);
  }

  /** A request of `count` records to `topic` failed after `seconds` with `error`. */
  failed(topic: string, count: number, seconds: number, error: unknown): void {
    const entry = this.entry(topic);
    const type = errorType(error);
    let attributes = entry.errors.get(type);
    if (!attributes) {
      attributes = { ...entry.topic, [attr.errorType]: type };
      entry.errors.set(type, attributes);
    }
    this.instruments.published.add(count, attributes);
    this.instruments.publishDuration.record(seconds, attributes);
  }

  private entry(topic: string): { topic: Attributes; partitions: Attributes[]; errors: Map<string, Attributes> } {
    let entry = this.topics.get(topic);
    if (!entry) {
      entry = { topic: { [attr.destination]: topic }, partitions: [], errors: new Map() };
      this.topics.set(topic, entry);
    }
    return entry;
  }
}
