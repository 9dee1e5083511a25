import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, MemoryLogger } from '@braid/core/testing';
import { AlertEventKind, AlertMetric, AlertStatus, WebhookDeliveryStatus } from '@braid/proto';
import type { AlertRule, DeadLetterQueue } from '@braid/proto';
import { DlqStore } from '../dlq-store.js';
import { AlertMonitor } from './alert-monitor.js';
import type { AlertMonitorOptions } from './alert-monitor.js';
import type { AlertPayload } from './alert-payload.js';
import { WebhookError } from './webhook-post.js';
import type { WebhookPost } from './webhook-post.js';

let dir: string;
let store: DlqStore;
let clock: FakeClock;
let logger: MemoryLogger;
const monitors: AlertMonitor[] = [];
/** The queue summaries the monitor sees, by `topic/subscription`. */
const queues = new Map<string, DeadLetterQueue>();
/** Every POST made: URL and parsed body. */
let posts: { url: string; body: AlertPayload }[];

const recordingPost: WebhookPost = (url, body) => {
  posts.push({ url, body: JSON.parse(body) as AlertPayload });
  return Promise.resolve();
};

function setQueue(subscription: string, figures: Partial<DeadLetterQueue>): void {
  queues.set(`orders/${subscription}`, {
    topic: 'orders',
    subscription,
    deadLetterTopic: `orders.${subscription}.dlq`,
    depth: 0,
    oldestAgeMs: 0,
    arrivalsLastMinute: 0,
    ...figures,
  });
}

function rule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 'depth-10',
    topic: 'orders',
    subscription: 'billing',
    metric: AlertMetric.ALERT_METRIC_DEPTH,
    threshold: 10,
    clearThreshold: 10,
    forMs: 0,
    webhooks: ['http://rule.example/hook', 'http://all.example/hook'],
    description: 'billing is failing',
    createdAtMs: clock.now(),
    createdBy: 'tester',
    ...overrides,
  };
}

async function open(options: Partial<AlertMonitorOptions> = {}): Promise<AlertMonitor> {
  const monitor = await AlertMonitor.open({
    store,
    queues: () => Promise.resolve([...queues.values()]),
    webhooks: ['http://all.example/hook'],
    post: recordingPost,
    intervalMs: 5_000,
    clock,
    logger,
    ...options,
  });
  monitors.push(monitor);
  return monitor;
}

/** Sets billing's depth, checks once and lets the notices go out. */
async function checkAt(monitor: AlertMonitor, depth: number): Promise<void> {
  setQueue('billing', { depth });
  await clock.advance(1_000);
  await monitor.check();
  await monitor.whenDelivered();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-alert-monitor-'));
  store = await DlqStore.open(dir);
  clock = new FakeClock();
  logger = new MemoryLogger();
  posts = [];
  queues.clear();
});

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.stop()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AlertMonitor', () => {
  it('fires once per crossing however many checks see the queue above, resolves once, and notifies every webhook once each time', async () => {
    const monitor = await open();
    await monitor.addRule(rule());
    for (const depth of [0, 3, 11, 40, 25, 12, 10, 0, 0, 11, 11]) await checkAt(monitor, depth);

    const states = posts.map((p) => `${p.body.state}@${p.body.value}`);
    // Two webhooks (the global one is also the rule's: notified once), two crossings up and one down.
    expect(states).toEqual(['firing@11', 'firing@11', 'resolved@10', 'resolved@10', 'firing@11', 'firing@11']);
    expect(posts.map((p) => p.url).slice(0, 2).sort()).toEqual(['http://all.example/hook', 'http://rule.example/hook']);
    expect(posts[0]?.body).toMatchObject({
      type: 'braid.dlq.alert',
      eventId: 1,
      state: 'firing',
      rule: { id: 'depth-10', metric: 'depth', threshold: 10, clearThreshold: 10, forMs: 0, description: 'billing is failing' },
      queue: { topic: 'orders', subscription: 'billing' },
      metric: 'depth',
      value: 11,
      threshold: 10,
      reason: 'depth 11 > 10',
    });
    expect(posts[0]?.body.time).toBe(new Date(posts[0]?.body.timeMs ?? 0).toISOString());

    const [state] = monitor.listStates();
    expect(state).toMatchObject({ rule: { id: 'depth-10' }, status: AlertStatus.ALERT_STATUS_FIRING, value: 11, firedCount: 2 });
    const events = monitor.listEvents(10);
    expect(events.map((e) => [e.id, e.kind, e.value, e.threshold])).toEqual([
      [3, AlertEventKind.ALERT_EVENT_KIND_FIRING, 11, 10],
      [2, AlertEventKind.ALERT_EVENT_KIND_RESOLVED, 10, 10],
      [1, AlertEventKind.ALERT_EVENT_KIND_FIRING, 11, 10],
    ]);
    expect(events[0]?.deliveries.map((d) => d.status)).toEqual([WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED]);
    expect(monitor.counters()).toMatchObject({ firingRules: 1, notificationsSent: 6, notificationsFailed: 0, notificationsPending: 0, evaluations: 11, lastCheckMs: clock.now() });
    // One structured line per crossing.
    const lines = logger.entries.filter((e) => e.message?.startsWith('dlq alert'));
    expect(lines.map((e) => [e.level, e.message])).toEqual([
      ['warn', 'dlq alert firing: depth 11 > 10'],
      ['info', 'dlq alert resolved: depth 10 <= 10'],
      ['warn', 'dlq alert firing: depth 11 > 10'],
    ]);
    expect(lines[0]?.fields).toMatchObject({ ruleId: 'depth-10', topic: 'orders', subscription: 'billing', metric: 'depth', value: 11, threshold: 10, state: 'firing', webhooks: 2 });
  });

  it('watches arrivals per minute and the oldest record age, and treats a queue it has no summary of as empty', async () => {
    const monitor = await open({ webhooks: [] });
    await monitor.addRule(rule({ id: 'arrivals', metric: AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE, threshold: 100, clearThreshold: 100, webhooks: ['http://a/'] }));
    await monitor.addRule(rule({ id: 'age', metric: AlertMetric.ALERT_METRIC_OLDEST_AGE_MS, threshold: 60_000, clearThreshold: 60_000, webhooks: ['http://b/'] }));
    await monitor.addRule(rule({ id: 'other-queue', subscription: 'shipping', webhooks: ['http://c/'] }));
    setQueue('billing', { depth: 500, arrivalsLastMinute: 101, oldestAgeMs: 59_000 });
    await monitor.check();
    await monitor.whenDelivered();
    expect(posts.map((p) => [p.url, p.body.metric, p.body.value])).toEqual([['http://a/', 'arrivals_per_minute', 101]]);
    setQueue('billing', { depth: 500, arrivalsLastMinute: 0, oldestAgeMs: 61_000 });
    await monitor.check();
    await monitor.whenDelivered();
    expect(posts.slice(1).map((p) => [p.url, p.body.state, p.body.value]).sort()).toEqual([
      ['http://a/', 'resolved', 0],
      ['http://b/', 'firing', 61_000],
    ]);
    expect(monitor.listStates({ subscription: 'shipping' })).toMatchObject([{ rule: { id: 'other-queue' }, status: AlertStatus.ALERT_STATUS_OK, value: 0 }]);
  });

  it('keeps rules, states and events across a restart: a firing rule does not fire again, and resolves when the queue drains', async () => {
    const first = await open();
    await first.addRule(rule());
    await checkAt(first, 50);
    expect(posts).toHaveLength(2);
    await first.stop();
    monitors.splice(0);

    const second = await open();
    expect(second.listRules().map((r) => r.id)).toEqual(['depth-10']);
    expect(second.listStates()[0]).toMatchObject({ status: AlertStatus.ALERT_STATUS_FIRING, firedCount: 1 });
    await checkAt(second, 60);
    expect(posts).toHaveLength(2);
    await checkAt(second, 0);
    expect(posts.slice(2).map((p) => [p.body.state, p.body.eventId])).toEqual([['resolved', 2], ['resolved', 2]]);
    expect(second.listEvents(10).map((e) => e.id)).toEqual([2, 1]);
  });

  it('resumes after a restart the notices a receiver that was down had not taken yet', async () => {
    const down: WebhookPost = () => Promise.reject(new WebhookError('POST failed: ECONNREFUSED', 0, true));
    const first = await open({ post: down, webhooks: [] });
    await first.addRule(rule({ webhooks: ['http://down.example/hook'] }));
    setQueue('billing', { depth: 11 });
    await first.check();
    await clock.advance(0);
    expect(first.counters()).toMatchObject({ notificationsPending: 1, notificationsSent: 0 });
    await first.stop();
    monitors.splice(0);

    const second = await open({ webhooks: [] });
    second.start();
    await second.whenDelivered();
    expect(posts.map((p) => [p.url, p.body.state, p.body.eventId])).toEqual([['http://down.example/hook', 'firing', 1]]);
    expect(second.listEvents(1)[0]?.deliveries[0]).toMatchObject({ status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED, attempts: 2 });
  });

  it('deleting a firing rule sends a last "resolved" notice; deleting an unknown rule is NOT_FOUND', async () => {
    const monitor = await open();
    await monitor.addRule(rule());
    await checkAt(monitor, 20);
    const deleted = await monitor.deleteRule('depth-10');
    await monitor.whenDelivered();
    expect(deleted.id).toBe('depth-10');
    expect(posts.slice(2).map((p) => [p.body.state, p.body.reason, p.body.value])).toEqual([
      ['resolved', 'rule deleted while firing', 20],
      ['resolved', 'rule deleted while firing', 20],
    ]);
    expect(monitor.listRules()).toEqual([]);
    expect(monitor.counters().firingRules).toBe(0);
    await expect(monitor.deleteRule('depth-10')).rejects.toMatchObject({ reason: 'NOT_FOUND', message: 'no alert rule with id "depth-10"' });
    // Gone from the store too.
    await monitor.stop();
    monitors.splice(0);
    expect((await open()).listRules()).toEqual([]);
  });

  it('checks every interval once started, on the injected clock', async () => {
    const monitor = await open();
    await monitor.addRule(rule());
    setQueue('billing', { depth: 11 });
    monitor.start();
    await clock.advance(4_999);
    expect(monitor.counters().evaluations).toBe(0);
    await clock.advance(1);
    // The check writes to the store (real I/O), so wait for its outcome rather than for the clock.
    await expect.poll(() => posts.map((p) => p.body.state)).toEqual(['firing', 'firing']);
    expect(monitor.counters().evaluations).toBe(1);
    for (let round = 0; round < 3; round++) {
      await expect.poll(() => clock.pendingDelays()).toEqual([5_000]);
      await clock.advance(5_000);
    }
    await expect.poll(() => monitor.counters().evaluations).toBe(4);
    expect(posts).toHaveLength(2);
  });

  it('keeps only the newest events', async () => {
    const monitor = await open({ maxEvents: 3, webhooks: [] });
    await monitor.addRule(rule({ webhooks: [] }));
    for (const depth of [11, 0, 11, 0, 11]) await checkAt(monitor, depth);
    expect(monitor.listEvents(10).map((e) => e.id)).toEqual([5, 4, 3]);
    const stored: number[] = [];
    for await (const event of store.alertEvents()) stored.push(event.id);
    expect(stored).toEqual([5, 4, 3]);
  });

  it('refuses rules beyond the limit with FAILED_PRECONDITION', async () => {
    const monitor = await open({ maxRules: 1 });
    await monitor.addRule(rule());
    await expect(monitor.addRule(rule({ id: 'second' }))).rejects.toMatchObject({ reason: 'FAILED_PRECONDITION' });
  });
});
