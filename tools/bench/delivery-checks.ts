/**
 * Delivery checks for consume benchmarks: which published records one
 * subscription received, how often, and whether records of a key arrived in
 * publish order.
 *
 * A record is identified by its `(partition, offset)`, which the producer's
 * acknowledgement names; the checker never looks at payloads.
 */
import { grouped } from './stats.js';

/** The counts a run reports for one subscription. */
export interface DeliveryCounts {
  /** Records acknowledged to the producer. */
  published: number;
  /** Distinct published records delivered at least once. */
  delivered: number;
  /** Published records never delivered. */
  lost: number;
  /** Deliveries of a `(partition, offset)` already delivered (lease-expiry redeliveries; expected 0). */
  duplicates: number;
  /** First deliveries of a record after a later record of the same key had been delivered. */
  outOfOrder: number;
  /** Deliveries of records this run did not publish (another run's, or unknown). */
  unexpected: number;
}

/**
 * A small count per `(partition, offset)` (saturating at 255), in one
 * growable byte array per partition: offsets of a benchmark's fresh topic
 * are dense from 0, and a hash set of half a million numbers cost the
 * benchmark client a tenth of its CPU, which it then lacked for consuming.
 */
export class OffsetCounts {
  private readonly partitions: (Uint8Array | undefined)[] = [];
  private distinct = 0;

  /** Entries counted at least once. */
  get size(): number {
    return this.distinct;
  }

  /** Counts `(partition, offset)` once more; returns how often it was counted before. */
  increment(partition: number, offset: number): number {
    let counts = this.partitions[partition];
    if (counts === undefined || offset >= counts.length) {
      if (offset >= 2 ** 28) throw new RangeError(`offset ${offset} is beyond what a benchmark run publishes`);
      const grown = new Uint8Array(Math.max(1024, 2 ** Math.ceil(Math.log2(offset + 1))));
      if (counts) grown.set(counts);
      this.partitions[partition] = grown;
      counts = grown;
    }
    const before = counts[offset] ?? 0;
    if (before === 0) this.distinct += 1;
    if (before < 255) counts[offset] = before + 1;
    return before;
  }

  /** How often `(partition, offset)` was counted. */
  count(partition: number, offset: number): number {
    return this.partitions[partition]?.[offset] ?? 0;
  }

  /** Every `(partition, offset)` counted at least once. */
  *entries(): Generator<[partition: number, offset: number]> {
    for (const [partition, counts] of this.partitions.entries()) {
      if (!counts) continue;
      for (let offset = 0; offset < counts.length; offset++) if (counts[offset]) yield [partition, offset];
    }
  }
}

/** The records a run published, as the producer's acknowledgements named them. */
export class PublishedRecords {
  private readonly records = new OffsetCounts();

  /** Records acknowledged so far. */
  get size(): number {
    return this.records.size;
  }

  /** Notes an acknowledged record. */
  add(partition: number, offset: number): void {
    this.records.increment(partition, offset);
  }

  /** Whether this run published the record. */
  has(partition: number, offset: number): boolean {
    return this.records.count(partition, offset) > 0;
  }
}

/**
 * What one subscription received. Call {@link DeliveryChecker.deliver} from
 * the handler; {@link DeliveryChecker.whenDelivered} resolves once every
 * published record has arrived.
 */
export class DeliveryChecker {
  /** Delivery count per record id. */
  private readonly deliveries = new OffsetCounts();
  /** Highest offset of each key delivered so far (a key lives in one partition). */
  private readonly lastOffsetOfKey = new Map<string, number>();
  private distinct = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private target = Number.POSITIVE_INFINITY;
  private reached: (() => void) | undefined;
  /** `performance.now()` of the first delivery of the last record still missing, once all arrived. */
  completedAt: number | undefined;
  /** `performance.now()` of the latest delivery that made progress. */
  lastProgressAt = performance.now();

  constructor(private readonly published: PublishedRecords) {}

  /** Distinct published records delivered so far. */
  get deliveredCount(): number {
    return this.distinct;
  }

  /** Notes one delivery (call it once per handler invocation). */
  deliver(partition: number, offset: number, key: Buffer | undefined): void {
    const seen = this.deliveries.increment(partition, offset);
    if (seen > 0) {
      this.duplicates += 1;
      return;
    }
    if (key !== undefined) {
      const name = key.toString('latin1');
      const last = this.lastOffsetOfKey.get(name);
      if (last !== undefined && offset < last) this.outOfOrder += 1;
      else this.lastOffsetOfKey.set(name, offset);
    }
    // The acknowledgement may still be on its way when the record is delivered:
    // unknown ids are judged in counts(), once publishing is over.
    this.distinct += 1;
    this.lastProgressAt = performance.now();
    if (this.distinct >= this.target) this.complete();
  }

  /**
   * Resolves once `expected` distinct records have been delivered, or when
   * nothing new arrived for `idleMs` (then some are lost).
   */
  async whenDelivered(expected: number, idleMs: number): Promise<void> {
    this.target = expected;
    if (this.distinct >= expected) {
      this.complete();
      return;
    }
    const done = new Promise<void>((resolve) => {
      this.reached = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => {
      const check = (): void => {
        if (performance.now() - this.lastProgressAt >= idleMs) resolve();
        else timer = setTimeout(check, 250);
      };
      check();
    });
    try {
      await Promise.race([done, idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The counts, against the records published. */
  counts(): DeliveryCounts {
    let delivered = 0;
    let unexpected = 0;
    for (const [partition, offset] of this.deliveries.entries()) {
      if (this.published.has(partition, offset)) delivered += 1;
      else unexpected += 1;
    }
    return {
      published: this.published.size,
      delivered,
      lost: this.published.size - delivered,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      unexpected,
    };
  }

  private complete(): void {
    this.completedAt ??= this.lastProgressAt;
    this.reached?.();
  }
}

/** One line of delivery checks. */
export function formatChecks(c: DeliveryCounts): string {
  const unexpected = c.unexpected > 0 ? `, ${grouped(c.unexpected)} unexpected` : '';
  return `${grouped(c.lost)} lost, ${grouped(c.duplicates)} duplicates, ${grouped(c.outOfOrder)} out of order per key (${grouped(c.delivered)} of ${grouped(c.published)} delivered${unexpected})`;
}
