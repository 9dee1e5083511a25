/**
 * Runs one redrive: reads the selected records from the local store,
 * records what each carries (redrive count + 1, edit history), publishes
 * it to its origin topic through a producer bound to the failing
 * subscription, and once the publish is acknowledged, marks it removed
 * (redriven) in the overlay and the index. Paced by `RedrivePacer`,
 * reporting progress every ~500 ms and at the end.
 *
 * The record published: the origin key (keyless records go back to their
 * origin partition), the value and headers (or the edit's), without
 * `braid-dlq-origin`, with `braid-redriven-from: <dlq topic>/<partition>/
 * <offset>`, and `redriveCount` one more than before.
 *
 * Delivery is at-least-once: a crash between a publish's acknowledgement
 * and its removal mark leaves the record in the queue, and a later redrive
 * sends it again (the `braid-redriven-from` header lets a consumer
 * notice).
 */
import type { Clock, Logger } from '@braid/core';
import { deadLetterOriginHeader } from '@braid/client';
import type { ProducerRecord } from '@braid/client';
import type { DeadLetter, DeadLetterRef, Edit, RedriveResponse } from '@braid/proto';
import { dlqAdminDefaults } from './defaults.js';
import type { Departure, DlqStore } from './dlq-store.js';
import { redrivenFromHeader } from './dlq-indexer.js';
import type { QueueIndex } from './queue-index.js';
import { toRef } from './record-summary.js';
import type { RecordSummary } from './record-summary.js';
import { RedrivePacer } from './redrive-pacer.js';
import type { RedriveProducers } from './redrive-producers.js';
import { context, trace } from '@opentelemetry/api';
import { endWhenSettled, linkedSpanContext, messageId, startRedriveSpan, tracingEnabled } from '@braid/telemetry';

/** Receives progress; a returned promise holds the redrive back until it settles (stream backpressure). */
export type RedriveProgressListener = (progress: RedriveResponse) => void | Promise<void>;

/** An edit applied to every record of an edit-and-redrive. */
export interface RedriveEdit {
  /** New value, or undefined to keep each record's own. */
  value: Buffer | undefined;
  /** New headers, or undefined to keep each record's own. */
  headers: Record<string, string> | undefined;
  /** Who edited. */
  actor: string;
}

/** One redrive to run. */
export interface RedriveJob {
  queue: QueueIndex;
  /** Records to send, claimed in `queue` by the caller (released here as they finish). */
  records: readonly RecordSummary[];
  /** Records selected but left alone (redrive limit), for the counts. */
  skipped: number;
  /** 0: unlimited. */
  recordsPerSecond: number;
  edit: RedriveEdit | undefined;
  auditId: number;
  onProgress: RedriveProgressListener;
  signal?: AbortSignal | undefined;
}

/** What a redrive did. */
export interface RedriveResult {
  redriven: number;
  /** Records redriven since the last progress message (for the final one). */
  refs: DeadLetterRef[];
  /** The failure that stopped it, if any (records sent before it stay redriven). */
  error: unknown;
}

/** Options of {@link Redriver}. */
export interface RedriverOptions {
  store: DlqStore;
  producers: RedriveProducers;
  clock: Clock;
  logger: Logger;
  /** Default `dlqAdminDefaults.progressIntervalMs`. */
  progressIntervalMs?: number;
}

/**
 * Runs `send` (the redrive of `letter`) inside a `redrive <topic>` span
 * linked to the record's original creation context, when tracing is on; the
 * producer's `send` span, and so the redriven record's trace, are children
 * of it.
 */
function traceRedrive<T>(queue: { topic: string; subscription: string }, letter: DeadLetter, send: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return send();
  const origin = letter.origin;
  const span = startRedriveSpan(
    { topic: queue.topic, partition: origin?.partition, messageId: origin ? messageId(origin.partition, origin.offset) : undefined, subscription: queue.subscription },
    linkedSpanContext(letter.headers),
  );
  return endWhenSettled(span, () => context.with(trace.setSpan(context.active(), span), send));
}

/** The record a dead letter becomes when it is redriven. */
export function redrivenRecord(deadLetterTopic: string, letter: DeadLetter, edit: RedriveEdit | undefined): ProducerRecord {
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(edit?.headers ?? letter.headers).filter(([name]) => name !== deadLetterOriginHeader),
  );
  headers[redrivenFromHeader] = `${deadLetterTopic}/${letter.dlqPartition}/${letter.dlqOffset}`;
  const key = letter.origin?.key;
  return {
    key,
    value: edit?.value ?? letter.value,
    headers,
    // A keyed record follows its key (the topic may have grown since); a keyless one goes home.
    partition: key === undefined ? letter.origin?.partition : undefined,
    redriveCount: letter.redriveCount + 1,
  };
}

/** What a dead letter carries away when it is redriven: the next redrive count and its edits, this one's last. */
export function departureOf(letter: DeadLetter, edit: RedriveEdit | undefined, nowMs: number): Departure {
  const edits: Edit[] = [...letter.edits];
  if (edit !== undefined) {
    edits.push({ timeMs: nowMs, actor: edit.actor, previousValue: letter.value, previousHeaders: { ...letter.headers } });
  }
  return { redriveCount: letter.redriveCount + 1, edits };
}

/** See the file comment. */
export class Redriver {
  private readonly progressIntervalMs: number;

  constructor(private readonly options: RedriverOptions) {
    this.progressIntervalMs = options.progressIntervalMs ?? dlqAdminDefaults.progressIntervalMs;
  }

  /** Runs `job` to its end (or its first failure); the final progress message is the caller's. */
  async run(job: RedriveJob): Promise<RedriveResult> {
    const { queue, store } = { queue: job.queue, store: this.options.store };
    const producer = this.options.producers.for(queue.subscription);
    const pacer = new RedrivePacer(job.recordsPerSecond, this.options.clock);
    const total = job.records.length + job.skipped;
    let redriven = 0;
    let error: unknown;
    let unreported: DeadLetterRef[] = [];
    let reporting: Promise<void> = Promise.resolve();
    const report = (): void => {
      const refs = unreported;
      unreported = [];
      reporting = reporting
        .then(() => job.onProgress({ total, redriven, skipped: job.skipped, done: false, refs }))
        .catch((failure: unknown) => {
          // The caller went away (stream cancelled): stop sending more.
          error ??= failure;
        });
    };
    const timer = setInterval(report, this.progressIntervalMs);
    const inFlight = new Set<Promise<void>>();
    try {
      for (let start = 0; start < job.records.length && error === undefined; start += pacer.chunkRecords) {
        if (job.signal?.aborted === true) {
          error = job.signal.reason;
          break;
        }
        const chunk = job.records.slice(start, start + pacer.chunkRecords);
        await pacer.admit(chunk.length, job.signal);
        // Backpressure from the acknowledgements and from the progress stream.
        while (inFlight.size * pacer.chunkRecords >= dlqAdminDefaults.redriveWindowRecords) await Promise.race(inFlight);
        await reporting;
        const letters = await store.getMany(queue.deadLetterTopic, chunk);
        const present: { summary: RecordSummary; letter: DeadLetter }[] = [];
        for (const [index, letter] of letters.entries()) {
          const summary = chunk[index];
          if (summary !== undefined && letter !== undefined) present.push({ summary, letter });
        }
        const now = this.options.clock.now();
        // Durable before the publish: a redriven record that comes back as a dead letter inherits this.
        await store.putDepartures(
          queue.deadLetterTopic,
          present.map(({ summary, letter }) => ({ partition: summary.partition, offset: summary.offset, departure: departureOf(letter, job.edit, now) })),
        );
        const sent = Promise.allSettled(
          present.map(({ letter }) => traceRedrive(queue, letter, () => producer.send(queue.topic, redrivenRecord(queue.deadLetterTopic, letter, job.edit)))),
        ).then(async (outcomes) => {
          const acked = present.filter((_, index) => outcomes[index]?.status === 'fulfilled').map(({ summary }) => summary);
          const failed = outcomes.find((outcome) => outcome.status === 'rejected');
          if (failed !== undefined && error === undefined) error = failed.reason;
          if (acked.length > 0) {
            await store.markRemoved(queue.deadLetterTopic, acked, { how: 'redriven', timeMs: this.options.clock.now(), auditId: job.auditId });
            queue.remove(acked);
            redriven += acked.length;
            unreported.push(...acked.map(toRef));
          }
        });
        const tracked: Promise<void> = sent
          .catch((failure: unknown) => {
            error ??= failure;
          })
          .finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
    } catch (failure) {
      error ??= failure;
    } finally {
      await Promise.all(inFlight);
      clearInterval(timer);
      queue.release(job.records);
    }
    await reporting;
    if (error !== undefined) this.options.logger.warn({ topic: queue.topic, subscription: queue.subscription, redriven, err: error }, 'redrive stopped');
    return { redriven, refs: unreported, error };
  }
}
