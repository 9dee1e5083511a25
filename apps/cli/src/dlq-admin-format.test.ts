import { describe, expect, it } from 'vitest';
import { AlertEventKind, AlertMetric, AlertStatus, WebhookDeliveryStatus } from '@braid/client';
import type { AlertEvent, AlertRule } from '@braid/client';
import {
  describeAlertRule,
  formatAlertEventJson,
  formatAlertEvents,
  formatAlertList,
  formatAuditList,
  formatDuration,
  formatQueueList,
  formatRefs,
} from './dlq-admin-format.js';

const rule = (overrides: Partial<AlertRule> = {}): AlertRule => ({
  id: '3f9c2a1b',
  topic: 'orders',
  subscription: 'billing',
  metric: AlertMetric.ALERT_METRIC_DEPTH,
  threshold: 100,
  clearThreshold: 100,
  forMs: 0,
  webhooks: ['http://a/'],
  description: 'billing\nis failing',
  createdAtMs: 0,
  createdBy: 'alice',
  ...overrides,
});

const delivery = (status: WebhookDeliveryStatus) => ({ url: 'http://a/', status, attempts: 1, lastError: '', finishedAtMs: 0 });

describe('dlq-admin formatting', () => {
  it('prints durations short, with the two largest units', () => {
    expect([850, 12_400, 185_000, 7_440_000, 273_600_000].map(formatDuration)).toEqual(['850ms', '12s', '3m05s', '2h04m', '3d04h']);
  });

  it('prints queues as a table, with no age for an empty queue', () => {
    const table = formatQueueList([
      { topic: 'orders', subscription: 'billing', deadLetterTopic: 'orders.billing.dlq', depth: 3, oldestAgeMs: 65_000, arrivalsLastMinute: 2 },
      { topic: 'orders', subscription: 'shipping', deadLetterTopic: 'orders.shipping.dlq', depth: 0, oldestAgeMs: 0, arrivalsLastMinute: 0 },
    ]);
    expect(table).toBe(
      'TOPIC   SUBSCRIPTION  DEPTH  OLDEST  ARRIVALS_PER_MIN  DEAD_LETTER_TOPIC\n' +
        'orders  billing       3      1m05s   2                 orders.billing.dlq\n' +
        'orders  shipping      0      -       0                 orders.shipping.dlq\n',
    );
  });

  it('names records as partition:offset, eliding beyond a limit', () => {
    const refs = [1, 2, 3].map((offset) => ({ dlqPartition: 0, dlqOffset: offset }));
    expect(formatRefs(refs)).toBe('0:1 0:2 0:3');
    expect(formatRefs(refs, 2)).toBe('0:1 0:2 (+1 more)');
  });

  it('describes rules in words, ages as durations', () => {
    expect(describeAlertRule(rule())).toBe('depth > 100');
    expect(describeAlertRule(rule({ metric: AlertMetric.ALERT_METRIC_OLDEST_AGE_MS, threshold: 600_000, clearThreshold: 300_000, forMs: 60_000 }))).toBe(
      'oldest_age > 10m00s for 1m00s (resolves at <= 5m00s)',
    );
    expect(describeAlertRule(rule({ metric: AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE, threshold: 5, clearThreshold: 5 }))).toBe('arrivals_per_min > 5');
  });

  it('prints rules with their state, unchecked ones without a value, descriptions on one line', () => {
    const table = formatAlertList([
      { rule: rule(), status: AlertStatus.ALERT_STATUS_FIRING, value: 120, sinceMs: Date.UTC(2026, 0, 1), checkedAtMs: 1, firedCount: 2 },
      { rule: rule({ id: 'b' }), status: AlertStatus.ALERT_STATUS_UNSPECIFIED, value: 0, sinceMs: 0, checkedAtMs: 0, firedCount: 0 },
    ]);
    expect(table.split('\n')[1]).toBe('3f9c2a1b  orders/billing  depth > 100  firing     120    2026-01-01T00:00:00.000Z  2      1         billing is failing');
    expect(table.split('\n')[2]).toMatch(/^b +orders\/billing +depth > 100 +unchecked +- +- +0 +1 +billing is failing$/);
  });

  it('summarises webhook deliveries of events', () => {
    const event: AlertEvent = {
      id: 7,
      ruleId: '3f9c2a1b',
      topic: 'orders',
      subscription: 'billing',
      metric: AlertMetric.ALERT_METRIC_DEPTH,
      kind: AlertEventKind.ALERT_EVENT_KIND_RESOLVED,
      value: 80,
      threshold: 100,
      timeMs: Date.UTC(2026, 0, 1),
      reason: 'depth 80 <= 100',
      deliveries: [delivery(WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED), delivery(WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED), delivery(WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING)],
    };
    expect(formatAlertEvents([event]).split('\n')[1]).toBe('7   2026-01-01T00:00:00.000Z  3f9c2a1b  orders/billing  resolved  80     100        2 delivered, 1 pending  depth 80 <= 100');
    expect(JSON.parse(formatAlertEventJson({ ...event, deliveries: [] }))).toMatchObject({ id: 7, state: 'resolved', metric: 'depth', deliveries: [] });
    expect(formatAlertEvents([{ ...event, deliveries: [] }])).toMatch(/ - +depth 80 <= 100\n$/);
  });

  it('prints the audit log with the queue as topic/subscription and outcomes on one line', () => {
    const table = formatAuditList([
      { id: 3, timeMs: Date.UTC(2026, 0, 1), actor: 'alice', action: 'purge', topic: 'orders', subscription: 'billing', selection: 'all', recordCount: 12, dryRun: true, skipped: 0, outcome: 'ok', finishedAtMs: 1 },
      { id: 2, timeMs: Date.UTC(2026, 0, 1), actor: 'bob', action: 'delete-alert-rule', topic: '', subscription: '', selection: 'rule x', recordCount: 0, dryRun: false, skipped: 0, outcome: 'failed: no\nrule', finishedAtMs: 1 },
    ]);
    expect(table.split('\n')[1]).toMatch(/^3 +2026-01-01T00:00:00.000Z +alice +purge +orders\/billing +12 +0 +yes +ok +all$/);
    expect(table.split('\n')[2]).toMatch(/^2 .* bob +delete-alert-rule +- +0 +0 +no +failed: no rule +rule x$/);
  });
});
