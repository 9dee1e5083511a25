/**
 * What an alert rule is made of: its metric (read off a queue summary), the
 * checks a `CreateAlertRuleRequest` must pass to become an `AlertRule`
 * (INVALID_ARGUMENT naming the field otherwise), and the rule in words for
 * logs, notices and the audit log.
 */
import { assertValidName } from '@braid/core';
import { AlertMetric } from '@braid/proto';
import type { AlertRule, CreateAlertRuleRequest, DeadLetterQueue } from '@braid/proto';
import { invalid } from '../request-checks.js';
import { alertDefaults } from './alert-defaults.js';

/** The metric names used in notices, logs and by the CLI. */
export const metricNames = {
  [AlertMetric.ALERT_METRIC_DEPTH]: 'depth',
  [AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE]: 'arrivals_per_minute',
  [AlertMetric.ALERT_METRIC_OLDEST_AGE_MS]: 'oldest_age_ms',
} as const satisfies Partial<Record<AlertMetric, string>>;

/** A metric a rule can watch (not UNSPECIFIED). */
export type WatchedMetric = keyof typeof metricNames;

/** Whether `metric` is one a rule can watch. */
export function isWatchedMetric(metric: AlertMetric): metric is WatchedMetric {
  return Object.hasOwn(metricNames, metric);
}

/** The metric's name (`depth`, `arrivals_per_minute`, `oldest_age_ms`), or `unspecified`. */
export function metricName(metric: AlertMetric): string {
  return isWatchedMetric(metric) ? metricNames[metric] : 'unspecified';
}

/**
 * The metric's value on `queue`; a queue with no summary (nothing was
 * dead-lettered yet, or everything was purged and forgotten) is empty: 0.
 */
export function metricValue(metric: AlertMetric, queue: DeadLetterQueue | undefined): number {
  if (queue === undefined) return 0;
  switch (metric) {
    case AlertMetric.ALERT_METRIC_DEPTH:
      return queue.depth;
    case AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE:
      return queue.arrivalsLastMinute;
    case AlertMetric.ALERT_METRIC_OLDEST_AGE_MS:
      return queue.oldestAgeMs;
    default:
      return 0;
  }
}

function nonNegative(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(field, `must be a whole number >= 0, got ${value}`);
  return value;
}

/** `url` if it is an absolute http or https URL; INVALID_ARGUMENT naming `field` otherwise. */
export function checkWebhookUrl(url: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(field, `must be an absolute http or https URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(field, `must be an http or https URL, got "${url}"`);
  return parsed.toString();
}

/** What `checkRuleRequest` adds to a request to make the rule. */
export interface NewRuleFacts {
  id: string;
  createdAtMs: number;
  createdBy: string;
}

/**
 * Checks `request` and returns the rule it describes (defaults filled in:
 * `clear_threshold` is the threshold when unset). Topic and subscription
 * must be valid names; whether they exist is the caller's business.
 */
export function checkRuleRequest(request: CreateAlertRuleRequest, facts: NewRuleFacts): AlertRule {
  if (request.topic === '') throw invalid('topic', 'is required');
  if (request.subscription === '') throw invalid('subscription', 'is required');
  assertValidName('topic', request.topic);
  assertValidName('subscription', request.subscription);
  if (!isWatchedMetric(request.metric)) {
    throw invalid('metric', `must be ALERT_METRIC_DEPTH, ALERT_METRIC_ARRIVALS_PER_MINUTE or ALERT_METRIC_OLDEST_AGE_MS, got ${request.metric}`);
  }
  const threshold = nonNegative('threshold', request.threshold);
  const clearThreshold = request.clearThreshold === undefined ? threshold : nonNegative('clear_threshold', request.clearThreshold);
  if (clearThreshold > threshold) throw invalid('clear_threshold', `must be at most the threshold (${threshold}), got ${clearThreshold}`);
  const forMs = nonNegative('for_ms', request.forMs);
  if (request.webhooks.length > alertDefaults.maxWebhooksPerRule) {
    throw invalid('webhooks', `may name at most ${alertDefaults.maxWebhooksPerRule} URLs, got ${request.webhooks.length}`);
  }
  const webhooks = [...new Set(request.webhooks.map((url, index) => checkWebhookUrl(url, `webhooks[${index}]`)))];
  if (request.description.length > alertDefaults.maxDescriptionLength) {
    throw invalid('description', `may be at most ${alertDefaults.maxDescriptionLength} characters, got ${request.description.length}`);
  }
  return {
    id: facts.id,
    topic: request.topic,
    subscription: request.subscription,
    metric: request.metric,
    threshold,
    clearThreshold,
    forMs,
    webhooks,
    description: request.description,
    createdAtMs: facts.createdAtMs,
    createdBy: facts.createdBy,
  };
}

/** `depth > 100`, `oldest_age_ms > 600000 for 60000ms (resolves at <= 300000)`. */
export function describeRule(rule: AlertRule): string {
  const parts = [`${metricName(rule.metric)} > ${rule.threshold}`];
  if (rule.forMs > 0) parts.push(`for ${rule.forMs}ms`);
  if (rule.clearThreshold !== rule.threshold) parts.push(`(resolves at <= ${rule.clearThreshold})`);
  return parts.join(' ');
}
