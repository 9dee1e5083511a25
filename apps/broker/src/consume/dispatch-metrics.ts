/**
 * One subscription dispatcher's metrics: the broker instruments of
 * `@braid/telemetry` with this subscription's attributes, built once per
 * partition and reused, so that a hook is one call with no allocation.
 * Counters are added per batch (a delivery batch, an ack message), not per
 * record.
 *
 * The end-to-end histogram (publish time to acknowledgement) is per
 * record by nature, and a histogram record with attributes costs about
 * 2 us in the SDK, as much as the rest of a record's way through the
 * broker. So it takes a uniform sample: every acknowledged record while a
 * subscription acknowledges at most `endToEndSamplesPerSecond` per second,
 * every n-th above that (`StrideSampler`). Its count is then the sample's,
 * not the acknowledgements' (`acknowledged` counts those).
 */
import type { Attributes } from '@opentelemetry/api';
import type { Clock } from '@braid/core';
import { attr } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';
import { StrideSampler } from './stride-sampler.js';

/** End-to-end latencies recorded per second and subscription, at most (about). */
export const endToEndSamplesPerSecond = 1000;

/** Why an attempt failed without a settle (`error.type` of `expired`). */
export type ExpiryCause = 'lease_expired' | 'member_left';

/** See the file comment. */
export class DispatchMetrics {
  /** Destination and subscription: the histograms' attributes. */
  readonly subscriptionAttributes: Attributes;
  private readonly partitions = new Map<number, Attributes>();
  private readonly expiries = new Map<string, Attributes>();
  private readonly sampler: StrideSampler;

  /** Whether to measure at all (see `BrokerMetrics.enabled`). */
  readonly enabled: boolean;

  constructor(
    private readonly instruments: BrokerMetrics,
    readonly topic: string,
    readonly subscription: string,
    private readonly clock: Clock,
  ) {
    this.enabled = instruments.enabled;
    this.subscriptionAttributes = { [attr.destination]: topic, [attr.consumerGroup]: subscription };
    this.sampler = new StrideSampler(endToEndSamplesPerSecond, clock);
  }

  /** Destination, subscription and partition. */
  attributes(partition: number): Attributes {
    let attributes = this.partitions.get(partition);
    if (!attributes) {
      attributes = { ...this.subscriptionAttributes, [attr.partition]: String(partition) };
      this.partitions.set(partition, attributes);
    }
    return attributes;
  }

  /** A delivery batch went out: counted per run of one partition (the batch is filled partition by partition). */
  delivered(batch: readonly { readonly partition: number }[]): void {
    if (!this.enabled) return;
    let start = 0;
    for (let i = 1; i <= batch.length; i++) {
      const first = batch[start];
      if (first === undefined) return;
      if (i < batch.length && batch[i]?.partition === first.partition) continue;
      this.instruments.delivered.add(i - start, this.attributes(first.partition));
      start = i;
    }
  }

  /** `count` records of `partition` were acknowledged. */
  acknowledged(partition: number, count: number): void {
    if (count > 0) this.instruments.acknowledged.add(count, this.attributes(partition));
  }

  /**
   * Starts an ack message's end-to-end sampling (once per message): the
   * time of the acknowledgement, or undefined when metrics are off.
   */
  beginEndToEnd(): number | undefined {
    if (!this.enabled) return undefined;
    this.sampler.tick();
    return this.clock.now();
  }

  /** One acknowledged record, published at `publishTimeMs`, acknowledged at `now` (from `beginEndToEnd`). */
  endToEnd(publishTimeMs: number, now: number): void {
    if (!this.sampler.take()) return;
    this.instruments.endToEndDuration.record(Math.max(0, now - publishTimeMs) / 1000, this.subscriptionAttributes);
  }

  /** A member nacked a record of `partition` (a failed attempt). */
  nacked(partition: number): void {
    this.instruments.nacked.add(1, this.attributes(partition));
  }

  /** A member rejected a record of `partition`. */
  rejected(partition: number): void {
    this.instruments.rejected.add(1, this.attributes(partition));
  }

  /** `count` attempts on `partition` failed without a settle. */
  expired(partition: number, cause: ExpiryCause, count = 1): void {
    const key = `${partition}/${cause}`;
    let attributes = this.expiries.get(key);
    if (!attributes) {
      attributes = { ...this.attributes(partition), [attr.errorType]: cause };
      this.expiries.set(key, attributes);
    }
    this.instruments.expired.add(count, attributes);
  }

  /** A record of `partition` was dead-lettered and settled. */
  deadLettered(partition: number): void {
    this.instruments.deadLettered.add(1, this.attributes(partition));
  }

  /** Dispatch pauses `ms` for the rate limit's next token. */
  rateLimitWait(ms: number): void {
    this.instruments.rateLimitWaits.add(1, this.subscriptionAttributes);
    this.instruments.rateLimitWaitTime.add(ms / 1000, this.subscriptionAttributes);
  }
}
