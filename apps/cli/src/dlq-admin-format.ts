/**
 * How the `braid dlq` commands that talk to dlq-admin print queues, the
 * audit log, alert rules and events, redrive progress and summaries: a
 * table (free text last) or, with `--json`, one JSON object per line with
 * ISO 8601 times. Dead letters themselves print as in
 * `dead-letter-format.ts`.
 */
import { AlertEventKind, AlertMetric, AlertStatus, WebhookDeliveryStatus } from '@braid/client';
import type { AlertCounters, AlertEvent, AlertRule, AlertState, AuditEntry, DeadLetterQueue, DeadLetterRef } from '@braid/client';
import { iso } from './dead-letter-format.js';
import { formatTable } from './topic-format.js';

/** `850ms`, `12s`, `3m05s`, `2h04m`, `3d04h`: an age or a duration, short. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

/** The table of `braid dlq list`. */
export function formatQueueList(queues: readonly DeadLetterQueue[]): string {
  return formatTable(
    ['TOPIC', 'SUBSCRIPTION', 'DEPTH', 'OLDEST', 'ARRIVALS_PER_MIN', 'DEAD_LETTER_TOPIC'],
    queues.map((q) => [q.topic, q.subscription, String(q.depth), q.depth === 0 ? '-' : formatDuration(q.oldestAgeMs), String(q.arrivalsLastMinute), q.deadLetterTopic]),
  );
}

/** One `braid dlq list --json` line. */
export function formatQueueJson(q: DeadLetterQueue): string {
  const json = {
    topic: q.topic,
    subscription: q.subscription,
    deadLetterTopic: q.deadLetterTopic,
    depth: q.depth,
    oldestAgeMs: q.oldestAgeMs,
    arrivalsLastMinute: q.arrivalsLastMinute,
  };
  return `${JSON.stringify(json)}\n`;
}

/** `0:12 0:13 1:4` (and `(+N more)` beyond `max`): records named by partition and offset. */
export function formatRefs(refs: readonly DeadLetterRef[], max = 20): string {
  const named = refs.slice(0, max).map((r) => `${r.dlqPartition}:${r.dlqOffset}`).join(' ');
  return refs.length > max ? `${named} (+${refs.length - max} more)` : named;
}

/** The table of `braid dlq audit`. */
export function formatAuditList(entries: readonly AuditEntry[]): string {
  return formatTable(
    ['ID', 'TIME', 'ACTOR', 'ACTION', 'QUEUE', 'RECORDS', 'SKIPPED', 'DRY_RUN', 'OUTCOME', 'SELECTION'],
    entries.map((e) => [
      String(e.id),
      iso(e.timeMs),
      e.actor,
      e.action,
      e.topic === '' ? '-' : `${e.topic}/${e.subscription}`,
      String(e.recordCount),
      String(e.skipped),
      e.dryRun ? 'yes' : 'no',
      e.outcome.replace(/\s+/g, ' '),
      e.selection === '' ? '-' : e.selection,
    ]),
  );
}

/** One `braid dlq audit --json` line. */
export function formatAuditJson(e: AuditEntry): string {
  const json = {
    id: e.id,
    time: iso(e.timeMs),
    actor: e.actor,
    action: e.action,
    topic: e.topic,
    subscription: e.subscription,
    selection: e.selection,
    recordCount: e.recordCount,
    skipped: e.skipped,
    dryRun: e.dryRun,
    outcome: e.outcome,
    finishedAt: e.finishedAtMs > 0 ? iso(e.finishedAtMs) : null,
  };
  return `${JSON.stringify(json)}\n`;
}

/** A metric's name as the CLI spells it. */
export function metricLabel(metric: AlertMetric): string {
  switch (metric) {
    case AlertMetric.ALERT_METRIC_DEPTH:
      return 'depth';
    case AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE:
      return 'arrivals_per_min';
    case AlertMetric.ALERT_METRIC_OLDEST_AGE_MS:
      return 'oldest_age';
    default:
      return 'unspecified';
  }
}

/** A value of `metric`: a duration for the oldest age, a number otherwise. */
export function metricValueText(metric: AlertMetric, value: number): string {
  return metric === AlertMetric.ALERT_METRIC_OLDEST_AGE_MS ? formatDuration(value) : String(value);
}

/** `depth > 100`, `oldest_age > 10m00s for 1m00s (resolves at <= 5m00s)`. */
export function describeAlertRule(rule: AlertRule): string {
  const parts = [`${metricLabel(rule.metric)} > ${metricValueText(rule.metric, rule.threshold)}`];
  if (rule.forMs > 0) parts.push(`for ${formatDuration(rule.forMs)}`);
  if (rule.clearThreshold !== rule.threshold) parts.push(`(resolves at <= ${metricValueText(rule.metric, rule.clearThreshold)})`);
  return parts.join(' ');
}

/** `ok`, `pending`, `firing` or `unchecked`. */
export function alertStatusName(status: AlertStatus): string {
  switch (status) {
    case AlertStatus.ALERT_STATUS_OK:
      return 'ok';
    case AlertStatus.ALERT_STATUS_PENDING:
      return 'pending';
    case AlertStatus.ALERT_STATUS_FIRING:
      return 'firing';
    default:
      return 'unchecked';
  }
}

/** The table of `braid dlq alerts list`. */
export function formatAlertList(states: readonly AlertState[]): string {
  return formatTable(
    ['ID', 'QUEUE', 'RULE', 'STATUS', 'VALUE', 'SINCE', 'FIRED', 'WEBHOOKS', 'DESCRIPTION'],
    states.map((s) => {
      const rule = s.rule;
      if (rule === undefined) return ['-', '-', '-', alertStatusName(s.status), '-', '-', '-', '-', '-'];
      return [
        rule.id,
        `${rule.topic}/${rule.subscription}`,
        describeAlertRule(rule),
        alertStatusName(s.status),
        s.checkedAtMs > 0 ? metricValueText(rule.metric, s.value) : '-',
        iso(s.sinceMs),
        String(s.firedCount),
        String(rule.webhooks.length),
        rule.description === '' ? '-' : rule.description.replace(/\s+/g, ' '),
      ];
    }),
  );
}

/** What `alerts list|create --json` print for a rule. */
export interface AlertRuleJson {
  id: string;
  topic: string;
  subscription: string;
  metric: string;
  threshold: number;
  clearThreshold: number;
  forMs: number;
  webhooks: string[];
  description: string;
  createdAt: string;
  createdBy: string;
  /** With `alerts list`: where the rule stands. */
  state?: { status: string; value: number; since: string; checkedAt: string; firedCount: number };
}

/** One rule (with its state, when given) as a JSON line. */
export function formatAlertRuleJson(rule: AlertRule, state?: AlertState): string {
  const json: AlertRuleJson = {
    id: rule.id,
    topic: rule.topic,
    subscription: rule.subscription,
    metric: metricLabel(rule.metric),
    threshold: rule.threshold,
    clearThreshold: rule.clearThreshold,
    forMs: rule.forMs,
    webhooks: [...rule.webhooks],
    description: rule.description,
    createdAt: iso(rule.createdAtMs),
    createdBy: rule.createdBy,
  };
  if (state !== undefined) {
    json.state = { status: alertStatusName(state.status), value: state.value, since: iso(state.sinceMs), checkedAt: iso(state.checkedAtMs), firedCount: state.firedCount };
  }
  return `${JSON.stringify(json)}\n`;
}

function deliveryStatusName(status: WebhookDeliveryStatus): string {
  switch (status) {
    case WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_DELIVERED:
      return 'delivered';
    case WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_FAILED:
      return 'failed';
    case WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING:
      return 'pending';
    default:
      return 'unknown';
  }
}

/** `2 delivered`, `1 delivered, 1 pending`, or `-` without webhooks. */
function deliveriesText(event: AlertEvent): string {
  if (event.deliveries.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const d of event.deliveries) counts.set(deliveryStatusName(d.status), (counts.get(deliveryStatusName(d.status)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} ${name}`).join(', ');
}

const eventKindName = (kind: AlertEventKind): string => (kind === AlertEventKind.ALERT_EVENT_KIND_RESOLVED ? 'resolved' : 'firing');

/** The table of `braid dlq alerts events`. */
export function formatAlertEvents(events: readonly AlertEvent[]): string {
  return formatTable(
    ['ID', 'TIME', 'RULE', 'QUEUE', 'STATE', 'VALUE', 'THRESHOLD', 'WEBHOOKS', 'REASON'],
    events.map((e) => [
      String(e.id),
      iso(e.timeMs),
      e.ruleId,
      `${e.topic}/${e.subscription}`,
      eventKindName(e.kind),
      metricValueText(e.metric, e.value),
      metricValueText(e.metric, e.threshold),
      deliveriesText(e),
      e.reason,
    ]),
  );
}

/** One `braid dlq alerts events --json` line. */
export function formatAlertEventJson(e: AlertEvent): string {
  const json = {
    id: e.id,
    time: iso(e.timeMs),
    ruleId: e.ruleId,
    topic: e.topic,
    subscription: e.subscription,
    metric: metricLabel(e.metric),
    state: eventKindName(e.kind),
    value: e.value,
    threshold: e.threshold,
    reason: e.reason,
    deliveries: e.deliveries.map((d) => ({
      url: d.url,
      status: deliveryStatusName(d.status),
      attempts: d.attempts,
      lastError: d.lastError,
      finishedAt: d.finishedAtMs > 0 ? iso(d.finishedAtMs) : null,
    })),
  };
  return `${JSON.stringify(json)}\n`;
}

/** The counters line under `braid dlq alerts events`. */
export function formatAlertCounters(c: AlertCounters): string {
  return (
    `firing rules: ${c.firingRules}; notices sent: ${c.notificationsSent}, failed: ${c.notificationsFailed}, ` +
    `retried POSTs: ${c.notificationRetries}, pending: ${c.notificationsPending}; last check: ${iso(c.lastCheckMs)}\n`
  );
}
