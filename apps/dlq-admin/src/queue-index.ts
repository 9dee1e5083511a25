/**
 * The in-memory index of one dead-letter queue (a topic's failing
 * subscription): its records' summaries in index order (dead-lettered
 * time, partition, offset), a lookup by `partition/offset`, and the arrival
 * times of the last minute.
 *
 * Removal is lazy: a removed summary is flagged and skipped, and the array
 * is compacted once a quarter of it is removed, so removing 10,000 of
 * 100,000 records costs one filter pass instead of 10,000 splices.
 * `version` grows on every change; query results are cached against it.
 * Versions come from one module-wide counter, so a queue that replaces a
 * dropped one never repeats a version the old one had.
 */
import { dlqAdminDefaults } from './defaults.js';
import { compareSummaries, refId } from './record-summary.js';
import type { RecordSummary } from './record-summary.js';

/** Last version handed out to any queue (see the file comment). */
let lastVersion = 0;

function nextVersion(): number {
  return ++lastVersion;
}

/** See the file comment. */
export class QueueIndex {
  private entries: RecordSummary[] = [];
  private readonly byRef = new Map<string, RecordSummary>();
  private removedCount = 0;
  /** Dead-lettered times of arrivals, ascending-ish, trimmed to the window on read. */
  private arrivals: number[] = [];
  /** Refs claimed by a running redrive or purge. */
  private readonly claimed = new Set<string>();
  private versionValue = nextVersion();

  constructor(
    /** Topic of the failing subscription. */
    readonly topic: string,
    /** The failing subscription. */
    readonly subscription: string,
    /** The dead-letter topic the records live in. */
    readonly deadLetterTopic: string,
  ) {}

  /** Grows on every change; unique across queues. */
  get version(): number {
    return this.versionValue;
  }

  /** Records in the queue (not removed). */
  get depth(): number {
    return this.entries.length - this.removedCount;
  }

  /** Adds a record (arrivals count it too). Records already present are ignored. */
  add(summary: RecordSummary, countArrival = true): void {
    const id = refId(summary.partition, summary.offset);
    if (this.byRef.has(id)) return;
    this.byRef.set(id, summary);
    if (countArrival) this.arrivals.push(summary.deadLetteredAtMs);
    const last = this.entries[this.entries.length - 1];
    if (last === undefined || compareSummaries(last, summary) < 0) {
      this.entries.push(summary);
    } else {
      this.entries.splice(this.insertionPoint(summary), 0, summary);
    }
    this.versionValue = nextVersion();
  }

  /** Records an arrival of a record that is not kept (it was removed before this process started). */
  addArrival(deadLetteredAtMs: number): void {
    this.arrivals.push(deadLetteredAtMs);
  }

  /** The record at `partition/offset` if it is in the queue. */
  get(partition: number, offset: number): RecordSummary | undefined {
    return this.byRef.get(refId(partition, offset));
  }

  /** Removes records from the queue; returns how many were in it. */
  remove(refs: Iterable<{ partition: number; offset: number }>): number {
    let removed = 0;
    for (const { partition, offset } of refs) {
      const id = refId(partition, offset);
      const summary = this.byRef.get(id);
      if (summary === undefined) continue;
      this.byRef.delete(id);
      summary.removed = true;
      removed++;
    }
    if (removed === 0) return 0;
    this.removedCount += removed;
    this.versionValue = nextVersion();
    if (this.removedCount * 4 > this.entries.length) {
      this.entries = this.entries.filter((s) => !s.removed);
      this.removedCount = 0;
    }
    return removed;
  }

  /**
   * Every entry, oldest first, removed ones included (check `removed`):
   * for scans that must be fast; do not modify. Valid until the next change.
   */
  snapshot(): readonly RecordSummary[] {
    return this.entries;
  }

  /** Records in the queue, oldest first. */
  *live(): Generator<RecordSummary> {
    for (const summary of this.entries) if (!summary.removed) yield summary;
  }

  /** The oldest record in the queue. */
  oldest(): RecordSummary | undefined {
    for (const summary of this.entries) if (!summary.removed) return summary;
    return undefined;
  }

  /** Arrivals (dead-lettered times) at or after `now - windowMs`. */
  arrivalsSince(now: number, windowMs: number = dlqAdminDefaults.arrivalWindowMs): number {
    const since = now - windowMs;
    // Drop what fell out of the window (kept roughly ordered; stragglers are counted until a later trim).
    let drop = 0;
    while (drop < this.arrivals.length && (this.arrivals[drop] ?? 0) < since) drop++;
    if (drop > 0) this.arrivals = this.arrivals.slice(drop);
    let count = 0;
    for (const time of this.arrivals) if (time >= since && time <= now) count++;
    return count;
  }

  /**
   * Claims records for a running redrive or purge; returns those not
   * claimed already (the caller owns them until `release`).
   */
  claim(summaries: readonly RecordSummary[]): RecordSummary[] {
    const mine: RecordSummary[] = [];
    for (const summary of summaries) {
      const id = refId(summary.partition, summary.offset);
      if (this.claimed.has(id)) continue;
      this.claimed.add(id);
      mine.push(summary);
    }
    return mine;
  }

  /** Whether a running redrive or purge holds the record. */
  isClaimed(partition: number, offset: number): boolean {
    return this.claimed.has(refId(partition, offset));
  }

  /** Ends a claim. */
  release(summaries: Iterable<{ partition: number; offset: number }>): void {
    for (const { partition, offset } of summaries) this.claimed.delete(refId(partition, offset));
  }

  /** Index of the first entry after `position` in index order. */
  firstAfter(position: Pick<RecordSummary, 'deadLetteredAtMs' | 'partition' | 'offset'>, within: readonly RecordSummary[]): number {
    let low = 0;
    let high = within.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const entry = within[mid];
      if (entry !== undefined && compareSummaries(entry, position) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private insertionPoint(summary: RecordSummary): number {
    return this.firstAfter(summary, this.entries);
  }
}
