import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '@braid/core';
import { FakeClock, MemoryLogger } from '@braid/core/testing';
import { AlertEventKind, AlertMetric, WebhookDeliveryStatus } from '@braid/proto';
import type { AlertEvent } from '@braid/proto';
import { freePort } from '@braid/testkit';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { AlertMetrics } from './alert-metrics.js';
import { WebhookNotifier } from './webhook-notifier.js';
import type { WebhookNotifierOptions } from './webhook-notifier.js';
import { WebhookError, fetchPost } from './webhook-post.js';
import type { WebhookPost } from './webhook-post.js';

const receivers: WebhookReceiver[] = [];
const notifiers: WebhookNotifier[] = [];

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

function event(id: number, url: string, kind = AlertEventKind.ALERT_EVENT_KIND_FIRING, timeMs = Date.now()): AlertEvent {
  return {
    id,
    ruleId: 'r1',
    topic: 'orders',
    subscription: 'billing',
    metric: AlertMetric.ALERT_METRIC_DEPTH,
    kind,
    value: 12,
    threshold: 10,
    timeMs,
    reason: 'depth 12 > 10',
    deliveries: [{ url, status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING, attempts: 0, lastError: '', finishedAtMs: 0 }],
  };
}

function notifier(options: Partial<WebhookNotifierOptions> & { post: WebhookPost }): { notifier: WebhookNotifier; metrics: AlertMetrics; stored: AlertEvent[]; logger: MemoryLogger } {
  const metrics = new AlertMetrics();
  const stored: AlertEvent[] = [];
  const logger = new MemoryLogger();
  const created = new WebhookNotifier({
    metrics,
    logger,
    onUpdate: (e) => {
      stored.push(structuredClone(e));
      return Promise.resolve();
    },
    ...options,
  });
  notifiers.push(created);
  return { notifier: created, metrics, stored, logger };
}

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WebhookNotifier against a real HTTP receiver', () => {
  it('delivers to a receiver that is down at first once it comes back, in event order, once each', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks/braid`;
    const { notifier: n, metrics, stored, logger } = notifier({
      post: fetchPost(2_000),
      clock: systemClock,
      backoff: { initialDelayMs: 50, multiplier: 2, maxDelayMs: 200, jitter: 'none' },
      deadlineMs: 60_000,
    });
    const firing = event(1, url);
    const resolved = { ...event(2, url, AlertEventKind.ALERT_EVENT_KIND_RESOLVED), value: 0, reason: 'depth 0 <= 10' };
    n.notify(firing, JSON.stringify({ eventId: 1, state: 'firing' }));
    n.notify(resolved, JSON.stringify({ eventId: 2, state: 'resolved' }));

    // Nothing listens: the first notice is retried with backoff; the second waits behind it.
    await until('three failed POSTs', () => (firing.deliveries[0]?.attempts ?? 0) >= 3);
    expect(firing.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING });
    expect(firing.deliveries[0]?.lastError).toContain('ECONNREFUSED');
    expect(resolved.deliveries[0]?.attempts).toBe(0);
    expect(n.pending).toBe(2);
    // The first failure is kept (so ListAlertStates shows the receiver is down) and logged.
    expect(stored[0]?.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING, attempts: 1 });
    expect(logger.entries.find((e) => e.message === 'alert webhook failed; retrying')?.fields).toMatchObject({ eventId: 1, webhook: `http://127.0.0.1:${port}/...` });

    // The receiver comes back where it was configured, and answers 503 once more before it is ready.
    const receiver = await WebhookReceiver.start(port);
    receivers.push(receiver);
    receiver.statuses.push(503);
    await n.whenIdle();

    expect(receiver.received.map((r) => [r.path, r.body])).toEqual([
      ['/hooks/braid', { eventId: 1, state: 'firing' }],
      ['/hooks/braid', { eventId: 1, state: 'firing' }],
      ['/hooks/braid', { eventId: 2, state: 'resolved' }],
    ]);
    expect(receiver.received[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'braid-alert-event-id': '1', 'user-agent': 'braid-dlq-admin' });
    expect(firing.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, lastError: expect.stringContaining('503') as unknown });
    expect(firing.deliveries[0]?.finishedAtMs).toBeGreaterThan(0);
    expect(resolved.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, attempts: 1 });
    expect(metrics).toMatchObject({ notificationsSent: 2, notificationsFailed: 0 });
    expect(metrics.notificationRetries).toBe((firing.deliveries[0]?.attempts ?? 0) - 1);
    expect(n.pending).toBe(0);
    expect(stored.at(-1)?.deliveries[0]?.status).toBe(WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED);
  });

  it('gives a notice up at once when the receiver answers 4xx (the same request cannot succeed), and goes on with the next', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    receiver.statuses.push(404);
    const { notifier: n, metrics, logger } = notifier({ post: fetchPost(2_000), backoff: { initialDelayMs: 10, jitter: 'none' } });
    const first = event(1, receiver.url());
    const second = event(2, receiver.url());
    n.notify(first, '{"eventId":1}');
    n.notify(second, '{"eventId":2}');
    await n.whenIdle();
    expect(first.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED, attempts: 1, lastError: `POST ${receiver.url()} answered 404 Not Found` });
    expect(second.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, attempts: 1 });
    expect(metrics).toMatchObject({ notificationsSent: 1, notificationsFailed: 1, notificationRetries: 0 });
    expect(logger.entries.find((e) => e.level === 'error')).toMatchObject({ message: 'alert webhook given up', fields: { eventId: 1, attempts: 1 } });
  });
});

describe('WebhookNotifier with a fake clock', () => {
  it('retries with backoff until the deadline counted from the event, then gives up and logs it', async () => {
    const clock = new FakeClock();
    const attemptsAt: number[] = [];
    const { notifier: n, metrics, logger } = notifier({
      clock,
      deadlineMs: 10_000,
      backoff: { initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 4_000, jitter: 'none' },
      post: () => {
        attemptsAt.push(clock.now());
        return Promise.reject(new WebhookError('POST failed: ECONNREFUSED', 0, true));
      },
    });
    const start = clock.now();
    const notice = event(1, 'http://receiver.invalid/', AlertEventKind.ALERT_EVENT_KIND_FIRING, start);
    n.notify(notice, '{}');
    await clock.advance(30_000);
    await n.whenIdle();
    // 0, +1 s, +2 s, +4 s (capped), +4 s = 0, 1, 3, 7 s; the next (11 s) would start after the 10 s deadline.
    expect(attemptsAt.map((t) => t - start)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(notice.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED, attempts: 4 });
    expect(notice.deliveries[0]?.lastError).toBe('gave up after 4 attempts (deadline reached): POST failed: ECONNREFUSED');
    expect(metrics).toMatchObject({ notificationsFailed: 1, notificationRetries: 3, notificationsSent: 0 });
    expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual(['alert webhook given up']);
  });

  it('gives up without a POST a notice whose deadline passed while it waited (e.g. across a long outage or restart)', async () => {
    const clock = new FakeClock();
    let posts = 0;
    const { notifier: n } = notifier({
      clock,
      deadlineMs: 5_000,
      post: () => {
        posts++;
        return Promise.resolve();
      },
    });
    const old = event(1, 'http://receiver.invalid/', AlertEventKind.ALERT_EVENT_KIND_FIRING, clock.now() - 6_000);
    n.notify(old, '{}');
    await n.whenIdle();
    expect(posts).toBe(0);
    expect(old.deliveries[0]?.status).toBe(WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED);
    expect(old.deliveries[0]?.lastError).toBe('gave up: not delivered within 5000 ms of the event');
  });

  it('stops retrying on close and leaves the notice pending (resumed at the next start)', async () => {
    const clock = new FakeClock();
    const { notifier: n, metrics } = notifier({ clock, post: () => Promise.reject(new WebhookError('down', 0, true)) });
    const notice = event(1, 'http://receiver.invalid/', AlertEventKind.ALERT_EVENT_KIND_FIRING, clock.now());
    n.notify(notice, '{}');
    await clock.advance(0);
    await n.close();
    expect(notice.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING, attempts: 1 });
    expect(metrics.notificationsFailed).toBe(0);
    n.notify(event(2, 'http://receiver.invalid/'), '{}');
    expect(n.pending).toBe(0);
  });

  it('bounds each webhook queue: beyond the limit the oldest waiting notice is given up', () => {
    const clock = new FakeClock();
    const { notifier: n, metrics } = notifier({ clock, maxQueuedPerWebhook: 2, post: () => Promise.reject(new WebhookError('down', 0, true)) });
    const notices = [1, 2, 3, 4].map((id) => event(id, 'http://receiver.invalid/', AlertEventKind.ALERT_EVENT_KIND_FIRING, clock.now()));
    for (const notice of notices) n.notify(notice, '{}');
    // 1 is being sent; 2 and 3 waited, 4 pushed 2 out.
    expect(notices.map((e) => e.deliveries[0]?.status)).toEqual([
      WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING,
      WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED,
      WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING,
      WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING,
    ]);
    expect(notices[1]?.deliveries[0]?.lastError).toBe('gave up: more than 2 notices waiting for this webhook');
    expect(metrics.notificationsFailed).toBe(1);
    expect(n.pending).toBe(3);
  });
});
