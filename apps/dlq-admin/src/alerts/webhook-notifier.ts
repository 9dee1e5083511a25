/**
 * Delivers alert notices to webhooks, retrying with `@braid/backoff` until
 * the receiver takes them or a long deadline (counted from the event)
 * passes, so a receiver that is down gets its notices after it comes back.
 *
 * - One FIFO queue per webhook URL, delivered one notice at a time: a
 *   rule's "resolved" never overtakes its "firing", and a receiver that is
 *   down is not hammered by every pending notice at once. Queues are
 *   bounded (`maxQueuedPerWebhook`): beyond, the oldest waiting notice is
 *   given up, logged.
 * - Each delivery's progress (attempts, last error, delivered or given up)
 *   is written into the event (`onUpdate`), so `ListAlertStates` shows it
 *   and a restart resumes the deliveries still pending (`notify` again).
 * - `close()` stops retrying; what was not delivered stays pending.
 */
import { retry } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import { ShuttingDownError, systemClock, systemRandom } from '@braid/core';
import type { Clock, Logger, Random } from '@braid/core';
import { WebhookDeliveryStatus } from '@braid/proto';
import type { AlertEvent, WebhookDelivery } from '@braid/proto';
import { alertDefaults } from './alert-defaults.js';
import type { AlertMetrics } from './alert-metrics.js';
import { WebhookError } from './webhook-post.js';
import type { WebhookPost } from './webhook-post.js';

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** How one POST is made (`fetchPost` in production). */
  post: WebhookPost;
  /** Retry delays (default `alertDefaults.webhookBackoff`); attempts are unlimited, the deadline decides. */
  backoff?: Omit<BackoffPolicy, 'maxAttempts' | 'deadlineMs'>;
  /** Give a notice up this long after its event, in ms (default a day). */
  deadlineMs?: number;
  /** Notices waiting per webhook at most (default 1000). */
  maxQueuedPerWebhook?: number;
  /** Called when a delivery of `event` changed, to keep it; failures are logged. */
  onUpdate: (event: AlertEvent) => Promise<void>;
  metrics: AlertMetrics;
  logger: Logger;
  clock?: Clock;
  random?: Random;
}

interface Job {
  event: AlertEvent;
  delivery: WebhookDelivery;
  body: string;
}

/** A URL for logs: its origin, with the path elided (Slack-style webhooks carry their secret in it). */
export function webhookLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/...`;
  } catch {
    return '(invalid URL)';
  }
}

/** See the file comment. */
export class WebhookNotifier {
  private readonly queues = new Map<string, Job[]>();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly deadlineMs: number;
  private readonly maxQueued: number;
  private readonly backoff: Omit<BackoffPolicy, 'maxAttempts' | 'deadlineMs'>;
  private inFlight = 0;
  /** Delivery updates being written. */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly options: WebhookNotifierOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger;
    this.deadlineMs = options.deadlineMs ?? alertDefaults.webhookDeadlineMs;
    this.maxQueued = options.maxQueuedPerWebhook ?? alertDefaults.maxQueuedPerWebhook;
    this.backoff = options.backoff ?? alertDefaults.webhookBackoff;
  }

  /** Notices not delivered nor given up yet (waiting or being sent). */
  get pending(): number {
    let waiting = 0;
    for (const queue of this.queues.values()) waiting += queue.length;
    return waiting + this.inFlight;
  }

  /** Queues the pending deliveries of `event`, whose notice is `body` (JSON). */
  notify(event: AlertEvent, body: string): void {
    if (this.stopping.signal.aborted) return;
    for (const delivery of event.deliveries) {
      if (delivery.status === WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING) this.enqueue({ event, delivery, body });
    }
  }

  /** Resolves once nothing is pending (for tests and orderly shutdowns). */
  async whenIdle(): Promise<void> {
    while (this.workers.size > 0) await Promise.allSettled([...this.workers.values()]);
  }

  /**
   * Stops retrying (undelivered notices stay pending in their events) and
   * waits for the workers and for the delivery updates being written, so
   * the store can be closed after.
   */
  async close(): Promise<void> {
    this.stopping.abort(new ShuttingDownError('dlq-admin'));
    await this.whenIdle();
    await Promise.all([...this.writes]);
  }

  private enqueue(job: Job): void {
    const url = job.delivery.url;
    let queue = this.queues.get(url);
    if (queue === undefined) {
      queue = [];
      this.queues.set(url, queue);
    }
    if (queue.length >= this.maxQueued) {
      const dropped = queue.shift();
      if (dropped !== undefined) this.finish(dropped, WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED, `gave up: more than ${this.maxQueued} notices waiting for this webhook`);
    }
    queue.push(job);
    if (!this.workers.has(url)) this.workers.set(url, this.work(url, queue));
  }

  private async work(url: string, queue: Job[]): Promise<void> {
    try {
      for (let job = queue.shift(); job !== undefined && !this.stopping.signal.aborted; job = queue.shift()) {
        this.inFlight++;
        try {
          await this.deliver(job);
        } finally {
          this.inFlight--;
        }
      }
    } finally {
      this.workers.delete(url);
      if (queue.length === 0) this.queues.delete(url);
    }
  }

  private async deliver(job: Job): Promise<void> {
    const { event, delivery } = job;
    const log = this.logger.child({ eventId: event.id, ruleId: event.ruleId, webhook: webhookLabel(delivery.url) });
    const remainingMs = event.timeMs + this.deadlineMs - this.clock.now();
    if (remainingMs <= 0) {
      this.finish(job, WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED, `gave up: not delivered within ${this.deadlineMs} ms of the event${delivery.lastError === '' ? '' : ` (last error: ${delivery.lastError})`}`);
      return;
    }
    const headers = { 'content-type': 'application/json', 'user-agent': 'braid-dlq-admin', 'braid-alert-event-id': String(event.id) };
    try {
      await retry(
        async (_attempt, signal) => {
          delivery.attempts++;
          await this.options.post(delivery.url, job.body, headers, signal);
        },
        {
          ...this.backoff,
          maxAttempts: Number.POSITIVE_INFINITY,
          deadlineMs: remainingMs,
          clock: this.clock,
          random: this.random,
          signal: this.stopping.signal,
          isRetriable: (error) => !(error instanceof WebhookError) || error.retriable,
          onRetry: ({ error, delay }) => {
            this.options.metrics.notificationRetries++;
            delivery.lastError = error instanceof Error ? error.message : String(error);
            if (delivery.attempts === 1 || delivery.attempts % alertDefaults.logEveryFailures === 0) {
              log.warn({ attempts: delivery.attempts, retryInMs: delay, error: delivery.lastError }, 'alert webhook failed; retrying');
            }
            // Keep the first failure, so that a look at the events shows the receiver is down.
            if (delivery.attempts === 1) this.keep(event);
          },
        },
      );
    } catch (error) {
      // Stopping: the delivery stays pending in the store and is resumed at the next start.
      if (this.stopping.signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      this.finish(job, WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED, message);
      return;
    }
    this.finish(job, WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, '');
  }

  private finish(job: Job, status: WebhookDeliveryStatus, error: string): void {
    const { event, delivery } = job;
    delivery.status = status;
    delivery.finishedAtMs = this.clock.now();
    const fields = { eventId: event.id, ruleId: event.ruleId, webhook: webhookLabel(delivery.url), attempts: delivery.attempts };
    if (status === WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED) {
      this.options.metrics.notificationsSent++;
      this.logger.info(fields, 'alert webhook delivered');
    } else {
      delivery.lastError = error;
      this.options.metrics.notificationsFailed++;
      this.logger.error({ ...fields, error }, 'alert webhook given up');
    }
    this.keep(event);
  }

  private keep(event: AlertEvent): void {
    const write = this.options.onUpdate(event).catch((error: unknown) => {
      this.logger.error({ eventId: event.id, error: error instanceof Error ? error.message : String(error) }, 'could not store an alert event');
    });
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }
}
