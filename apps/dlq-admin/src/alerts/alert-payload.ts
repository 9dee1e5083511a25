/**
 * The JSON body dlq-admin POSTs to webhooks when a rule fires or resolves
 * (`Content-Type: application/json`, with the event id also in the
 * `braid-alert-event-id` header, so a receiver can drop a notice it got
 * twice: a POST whose answer was lost is sent again):
 *
 * ```json
 * {
 *   "type": "braid.dlq.alert",
 *   "eventId": 7,
 *   "state": "firing",
 *   "time": "2026-11-29T01:30:00.000Z",
 *   "timeMs": 1795915800000,
 *   "rule": { "id": "3f9c2a1b", "metric": "depth", "threshold": 100, "clearThreshold": 100, "forMs": 0, "description": "billing is failing" },
 *   "queue": { "topic": "orders", "subscription": "billing" },
 *   "metric": "depth",
 *   "value": 120,
 *   "threshold": 100,
 *   "reason": "depth 120 > 100"
 * }
 * ```
 *
 * `state` is `firing` or `resolved`; for `resolved`, `threshold` is the
 * rule's clear threshold. `rule` is null when the rule was deleted before a
 * notice left after a restart.
 */
import { AlertEventKind } from '@braid/proto';
import type { AlertEvent, AlertRule } from '@braid/proto';
import { metricName } from './alert-rule.js';

/** The body of a webhook notice (see the file comment). */
export interface AlertPayload {
  type: 'braid.dlq.alert';
  eventId: number;
  state: 'firing' | 'resolved';
  /** ISO 8601. */
  time: string;
  timeMs: number;
  rule: { id: string; metric: string; threshold: number; clearThreshold: number; forMs: number; description: string } | null;
  queue: { topic: string; subscription: string };
  metric: string;
  value: number;
  threshold: number;
  reason: string;
}

/** `firing` or `resolved`. */
export function eventStateName(kind: AlertEventKind): 'firing' | 'resolved' {
  return kind === AlertEventKind.ALERT_EVENT_KIND_RESOLVED ? 'resolved' : 'firing';
}

/** The notice of `event` (of `rule`, when it still exists). */
export function alertPayload(event: AlertEvent, rule: AlertRule | undefined): AlertPayload {
  return {
    type: 'braid.dlq.alert',
    eventId: event.id,
    state: eventStateName(event.kind),
    time: new Date(event.timeMs).toISOString(),
    timeMs: event.timeMs,
    rule:
      rule === undefined
        ? null
        : {
            id: rule.id,
            metric: metricName(rule.metric),
            threshold: rule.threshold,
            clearThreshold: rule.clearThreshold,
            forMs: rule.forMs,
            description: rule.description,
          },
    queue: { topic: event.topic, subscription: event.subscription },
    metric: metricName(event.metric),
    value: event.value,
    threshold: event.threshold,
    reason: event.reason,
  };
}
