/**
 * Sends one partition's batches in order, pipelined, and retries them
 * without losing order or duplicating records — the idempotent producer of
 * Kafka (KIP-98, `TransactionManager` + `Sender` in the Java client):
 *
 * - Each batch carries the producer id and `baseSequence`, the number of its
 *   first record within (producer id, partition), assigned when it is first
 *   sent. A resend carries the same numbers, so a broker that already
 *   appended it answers with the original offsets (`duplicate`) instead of
 *   appending again.
 * - Up to `maxInFlight` batches are in flight at once, all to the same
 *   leader.
 * - When a batch fails, every batch sent after it is doomed: the broker
 *   refuses out-of-order sequences, so they fail too. Nothing new is sent
 *   until all of them are back; then the failed batch and the doomed ones go
 *   out again in sequence order (after the backoff delay, at least the
 *   broker's retry-after), so order holds across retries.
 * - A batch that cannot be retried (terminal error, `deliveryTimeoutMs`
 *   spent) fails its callers. If the broker refused it, nothing of it is in
 *   the log, so the batches after it are renumbered to close the gap. If its
 *   fate is unknown (the last attempt got no answer), renumbering could make
 *   the broker take a new batch for a duplicate of it, so the partition
 *   continues under a fresh producer id, and batches whose own fate is
 *   unknown fail too rather than risk a duplicate.
 *
 * - A broker that refuses the window's first batch as out of sequence
 *   (OUT_OF_ORDER_SEQUENCE) has lost this producer's state (a new leader, a
 *   restart): the partition continues under a fresh producer id, once per
 *   batch.
 *
 * This relies on the broker enforcing contiguous sequences per (producer id,
 * partition): a batch whose `base_sequence` is beyond the next expected one
 * must be refused (OUT_OF_ORDER_SEQUENCE), not appended. Then a doomed batch
 * that is acknowledged anyway proves every sequence before it is in the log,
 * so resending the earlier batches with their own numbers is safe (the
 * broker answers them as duplicates).
 */
import { randomUUID } from 'node:crypto';
import { status as Status } from '@grpc/grpc-js';
import { Backoff } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import { DeadlineExceededError, PartitionUnavailableError, UnavailableError } from '@braid/core';
import type { BraidError, Clock, Logger, Random } from '@braid/core';
import type { PublishRequest } from '@braid/proto';
import type { PartitionRoute } from './metadata-cache.js';
import type { ProducerBatch } from './producer-batch.js';
import type { PublishCallback, PublishOutcome } from './publish-stream.js';

/** Options of {@link PartitionSender}. */
export interface PartitionSenderOptions {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** Send producer id and sequence numbers (broker-side deduplication). */
  idempotent: boolean;
  /** The producer id to start with. */
  producerId: string;
  /** Batches in flight at once. */
  maxInFlight: number;
  /** Most records of a batch, when queued batches are merged. */
  maxBatchRecords: number;
  /** Most bytes of a batch, when queued batches are merged. */
  maxBatchBytes: number;
  /** A batch's age at which it is given up, in ms. */
  deliveryTimeoutMs: number;
  /** Delays between attempts. */
  retry: BackoffPolicy;
  /** Time source for delays and ages. */
  clock: Clock;
  /** Jitter source. */
  random: Random;
  /** For retries and failures. */
  logger: Logger;
  /** The partition's current leader. */
  route: () => PartitionRoute;
  /** `PublishRequest.target_subscription`: '' for every subscription. */
  targetSubscription?: string;
  /** Sends one batch to a broker. */
  publish: (address: string, request: PublishRequest, callback: PublishCallback) => void;
  /**
   * Told about failures that may mean the routing view is wrong; returns the
   * metadata refresh it started, which resends wait for (it never rejects).
   */
  onRouteError: (error: BraidError) => Promise<void>;
}

/** Codes after which the partition's leader may have moved. */
const routeErrorCodes: ReadonlySet<Status> = new Set([
  Status.FAILED_PRECONDITION,
  Status.NOT_FOUND,
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
]);

/** Reason of a refusal for a sequence gap (in `reason`, or in the detail's metadata by brokers whose error table lacks it). */
export const outOfOrderSequence = 'OUT_OF_ORDER_SEQUENCE';

/** Whether the broker refused a batch because its sequence does not follow the last one it appended. */
export function isOutOfOrderSequence(error: BraidError): boolean {
  const reason: string = error.reason;
  return reason === outOfOrderSequence || error.metadata['reason'] === outOfOrderSequence;
}

/** Sends the batches of one partition. */
export class PartitionSender {
  /** Sealed batches never sent, oldest first. */
  private readonly queue: ProducerBatch[] = [];
  /** Batches to send again, in sequence order; they go before the queue. */
  private readonly retries: ProducerBatch[] = [];
  /** Batches sent and not answered, in sequence order. */
  private readonly inFlight: ProducerBatch[] = [];
  private inFlightAddress = '';
  private producerId: string;
  private nextSequence = 0;
  /** A batch failed and batches sent after it are still out. */
  private recovering = false;
  /** In this recovery, a batch was given up whose fate is unknown. */
  private gaveUpUnknown = false;
  /** In this recovery, a doomed batch was acknowledged. */
  private doomedAcked = false;
  /** In this recovery, the broker showed it does not know this producer's sequence. */
  private lostSequence = false;
  /** Lowest sequence given up after a refusal in this recovery. */
  private holeStart = Number.POSITIVE_INFINITY;
  private lastError: BraidError | undefined;
  private resumeAt = 0;
  private resumeTimer: AbortController | undefined;
  private routeRefresh: Promise<void> | undefined;
  private aborted = false;

  constructor(private readonly options: PartitionSenderOptions) {
    this.producerId = options.producerId;
  }

  /** Queues a sealed batch and sends what the window allows. */
  enqueue(batch: ProducerBatch): void {
    if (this.aborted) {
      batch.fail(new UnavailableError('producer is closed'));
      return;
    }
    this.queue.push(batch);
    this.pump();
  }

  /** Fails every batch with `error` and stops sending (producer closed). */
  abort(error: BraidError): void {
    this.aborted = true;
    this.resumeTimer?.abort();
    for (const batch of [...this.inFlight, ...this.retries, ...this.queue]) batch.fail(error);
    this.inFlight.length = 0;
    this.retries.length = 0;
    this.queue.length = 0;
  }

  private pump(): void {
    if (this.aborted) return;
    if (this.recovering) {
      if (this.inFlight.length > 0) return;
      this.endRecovery();
    }
    this.expireQueued();
    if (this.retries.length === 0 && this.queue.length === 0) return;
    // Resending to a leader we already know to be wrong would only fail again.
    if (this.routeRefresh) return;
    const now = this.options.clock.now();
    if (now < this.resumeAt) {
      this.scheduleResume(this.resumeAt - now);
      return;
    }
    while (this.inFlight.length < this.options.maxInFlight) {
      const fromRetries = this.retries.length > 0;
      const batch = fromRetries ? this.retries[0] : this.queue[0];
      if (!batch) return;
      const route = this.options.route();
      // One window, one leader: after a leader change, the batches still
      // out to the old one are answered before any goes to the new one.
      if (this.inFlight.length > 0 && route.address !== this.inFlightAddress) return;
      if (fromRetries) this.retries.shift();
      else {
        this.queue.shift();
        this.coalesce(batch);
      }
      this.dispatch(batch, route);
    }
  }

  /**
   * Merges the never-sent batches queued behind `batch` into it, as far as
   * the batch limits allow. While the window is full, batches keep being
   * sealed (by linger or size); sending them as they were would keep
   * batches small exactly when the broker is busiest.
   */
  private coalesce(batch: ProducerBatch): void {
    const { maxBatchRecords, maxBatchBytes } = this.options;
    for (let next = this.queue[0]; next; next = this.queue[0]) {
      if (batch.count + next.count > maxBatchRecords || batch.bytes + next.bytes > maxBatchBytes) return;
      this.queue.shift();
      batch.absorb(next);
    }
  }

  private dispatch(batch: ProducerBatch, route: PartitionRoute): void {
    const { idempotent, topic, partition } = this.options;
    if (batch.baseSequence < 0) {
      batch.baseSequence = this.nextSequence;
      this.nextSequence += batch.count;
    }
    batch.doomed = false;
    batch.attempts += 1;
    this.inFlight.push(batch);
    this.inFlightAddress = route.address;
    const request: PublishRequest = {
      topic,
      records: batch.records,
      producerId: idempotent ? this.producerId : '',
      partition: idempotent ? partition : undefined,
      baseSequence: idempotent ? batch.baseSequence : 0,
      leaderEpoch: route.leaderEpoch,
      targetSubscription: this.options.targetSubscription ?? '',
    };
    this.options.publish(route.address, request, (outcome) => { this.onOutcome(batch, outcome); });
  }

  private onOutcome(batch: ProducerBatch, outcome: PublishOutcome): void {
    const at = this.inFlight.indexOf(batch);
    if (at >= 0) this.inFlight.splice(at, 1);
    if (batch.settled) return;
    if (outcome.ok) this.onAcknowledged(batch, outcome);
    else this.onFailed(batch, outcome.error, outcome.refused);
    this.pump();
  }

  private onAcknowledged(batch: ProducerBatch, outcome: Extract<PublishOutcome, { ok: true }>): void {
    // With a broker that enforces contiguous sequences, this means every
    // batch before it is in the log; their resends will be answered as
    // duplicates.
    if (this.recovering && batch.doomed) this.doomedAcked = true;
    batch.complete(outcome.response.results);
  }

  private onFailed(batch: ProducerBatch, error: BraidError, refused: boolean): void {
    batch.maybeAppended ||= !refused;
    this.lastError = error;
    const now = this.options.clock.now();
    if (this.recovering && batch.doomed) {
      // Expected: an earlier batch failed, so the broker refused this one
      // (or the connection carrying both broke). It goes again after it.
      if (now - batch.createdAt >= this.options.deliveryTimeoutMs) this.giveUp(batch, error);
      else this.requeue(batch);
      return;
    }
    this.recovering = true;
    for (const other of this.inFlight) other.doomed = true;
    if (routeErrorCodes.has(error.code)) this.awaitRoute(this.options.onRouteError(error));
    let retriable = error.retriable;
    if (this.options.idempotent && isOutOfOrderSequence(error) && !batch.sequenceReset) {
      // The first batch of the window does not follow what the broker
      // has: it lost (or never had) this producer's state.
      batch.sequenceReset = true;
      this.lostSequence = true;
      retriable = true;
    }
    const delay = retriable ? this.retryDelay(batch, error, now) : undefined;
    if (delay === undefined) {
      this.giveUp(batch, error);
      return;
    }
    this.resumeAt = Math.max(this.resumeAt, now + delay);
    this.requeue(batch);
    this.options.logger.debug(
      { topic: this.options.topic, partition: this.options.partition, attempt: batch.attempts, delayMs: Math.round(delay), err: error },
      'publish failed; retrying',
    );
  }

  /** The wait before resending `batch`, or undefined when it must be given up. */
  private retryDelay(batch: ProducerBatch, error: BraidError, now: number): number | undefined {
    const { deliveryTimeoutMs, retry, clock, random } = this.options;
    const deadline = batch.createdAt + deliveryTimeoutMs;
    batch.backoff ??= new Backoff({ ...retry, deadlineMs: Math.max(0, deadline - now), clock, random });
    const backoffDelay = batch.backoff.next();
    if (backoffDelay === undefined) return undefined;
    // The broker's hint (memory watermark, quota) wins over a shorter backoff.
    const delay = Math.max(backoffDelay, error.retryAfterMs);
    return now + delay < deadline ? delay : undefined;
  }

  private giveUp(batch: ProducerBatch, error: BraidError): void {
    if (batch.maybeAppended) this.gaveUpUnknown = true;
    else this.holeStart = Math.min(this.holeStart, batch.baseSequence);
    this.options.logger.warn(
      { topic: this.options.topic, partition: this.options.partition, records: batch.count, attempts: batch.attempts, err: error },
      'publish failed; giving up on the batch',
    );
    batch.fail(this.explain(error));
  }

  /**
   * A connection failure to a leader the metadata reports down is told as
   * what it is: PARTITION_UNAVAILABLE (the broker would have said so).
   */
  private explain(error: BraidError): BraidError {
    if (error.code !== Status.UNAVAILABLE || error.reason === 'PARTITION_UNAVAILABLE' || this.options.route().available !== false) return error;
    return new PartitionUnavailableError(this.options.topic, this.options.partition);
  }

  private requeue(batch: ProducerBatch): void {
    let at = this.retries.length;
    while (at > 0 && (this.retries[at - 1]?.baseSequence ?? -1) > batch.baseSequence) at -= 1;
    this.retries.splice(at, 0, batch);
  }

  /** Every batch of the failed window is back: settle the sequence numbers before sending again. */
  private endRecovery(): void {
    this.recovering = false;
    const gaveUpUnknown = this.gaveUpUnknown;
    const doomedAcked = this.doomedAcked;
    const lostSequence = this.lostSequence;
    const holeStart = this.holeStart;
    this.gaveUpUnknown = false;
    this.doomedAcked = false;
    this.lostSequence = false;
    this.holeStart = Number.POSITIVE_INFINITY;
    if (!this.options.idempotent) return;
    const hole = holeStart !== Number.POSITIVE_INFINITY;

    // A batch given up with an unknown fate, a broker without our state, or
    // a gap next to an acknowledged batch (a broker not enforcing order):
    // renumbering in place could make the broker take a new batch for a
    // duplicate, so start a fresh sequence under a new producer id. A batch
    // that may already be in the log cannot go out under a new id without
    // risking a duplicate, so it fails instead.
    if (gaveUpUnknown || lostSequence || (hole && doomedAcked)) {
      this.producerId = randomUUID();
      const keep: ProducerBatch[] = [];
      for (const batch of this.retries) {
        if (batch.maybeAppended) {
          batch.fail(
            new UnavailableError('the partition had to start a new producer sequence while the outcome of this batch was unknown; it may or may not have been appended', {
              cause: this.lastError,
            }),
          );
        } else keep.push(batch);
      }
      this.retries.length = 0;
      this.retries.push(...keep);
      this.renumber(0);
      this.options.logger.info({ topic: this.options.topic, partition: this.options.partition, producerId: this.producerId }, 'continuing under a new producer id');
      return;
    }
    if (hole) {
      // Refused batches left a gap; nothing after it was appended (the
      // broker refuses out-of-order sequences), so close it.
      this.renumber(Math.min(holeStart, this.retries[0]?.baseSequence ?? holeStart));
    }
  }

  private renumber(start: number): void {
    let sequence = start;
    for (const batch of this.retries) {
      batch.baseSequence = sequence;
      sequence += batch.count;
    }
    this.nextSequence = sequence;
  }

  /** Fails never-sent batches that waited past `deliveryTimeoutMs` (the partition kept failing). */
  private expireQueued(): void {
    const now = this.options.clock.now();
    for (let head = this.queue[0]; head && now - head.createdAt >= this.options.deliveryTimeoutMs; head = this.queue[0]) {
      this.queue.shift();
      if (this.options.route().available === false) {
        head.fail(new PartitionUnavailableError(this.options.topic, this.options.partition));
        continue;
      }
      head.fail(
        new DeadlineExceededError(
          `batch of ${head.count} records for ${this.options.topic}/${this.options.partition} not sent within ${this.options.deliveryTimeoutMs} ms` +
            (this.lastError ? `: ${this.lastError.message}` : ''),
          { cause: this.lastError },
        ),
      );
    }
  }

  private awaitRoute(refresh: Promise<void>): void {
    this.routeRefresh = refresh;
    void refresh.then(() => {
      if (this.routeRefresh !== refresh) return;
      this.routeRefresh = undefined;
      this.pump();
    });
  }

  private scheduleResume(delayMs: number): void {
    if (this.resumeTimer) return;
    const timer = new AbortController();
    this.resumeTimer = timer;
    this.options.clock.sleep(delayMs, timer.signal).then(
      () => {
        this.resumeTimer = undefined;
        this.pump();
      },
      // Aborted: the producer closed.
      () => undefined,
    );
  }
}
