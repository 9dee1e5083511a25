/**
 * The alert evaluator: holds the rules and their states, checks every rule
 * every `intervalMs` against the queue summaries the service computes
 * (`ListDeadLetterQueues` without refresh: depth, oldest age, arrivals in
 * the last minute), and on a crossing (`alert-state-machine.ts`) records an
 * event, logs a structured line and hands the notice to the
 * `WebhookNotifier` for the global webhooks and the rule's own.
 *
 * Durable (in dlq-admin's store): rules, each rule's status (written when
 * it changes, so a restart neither fires a firing rule again nor forgets to
 * resolve it) and the last `maxEvents` events with their deliveries (so a
 * restart resumes the notices still pending). Rule changes and checks run
 * one at a time, so a rule deleted during a check is not brought back.
 */
import { FailedPreconditionError, NotFoundError, ShuttingDownError, systemClock } from '@braid/core';
import type { Clock, Logger, Random } from '@braid/core';
import { AlertEventKind, AlertStatus, WebhookDeliveryStatus } from '@braid/proto';
import type { AlertCounters, AlertEvent, AlertRule, AlertState, DeadLetterQueue } from '@braid/proto';
import type { DlqStore } from '../dlq-store.js';
import { alertDefaults } from './alert-defaults.js';
import { AlertMetrics } from './alert-metrics.js';
import { alertPayload, eventStateName } from './alert-payload.js';
import { describeRule, metricName, metricValue } from './alert-rule.js';
import { initialRuleState, stepRule } from './alert-state-machine.js';
import type { RuleState } from './alert-state-machine.js';
import { WebhookNotifier } from './webhook-notifier.js';
import type { WebhookNotifierOptions } from './webhook-notifier.js';
import type { WebhookPost } from './webhook-post.js';

/** What the monitor keeps in dlq-admin's store. */
export type AlertStore = Pick<
  DlqStore,
  'putAlertRule' | 'deleteAlertRule' | 'alertRules' | 'putAlertState' | 'alertStates' | 'putAlertEvent' | 'alertEvents' | 'lastAlertEventId' | 'dropAlertEventsBelow'
>;

/** Options of {@link AlertMonitor.open}. */
export interface AlertMonitorOptions {
  store: AlertStore;
  /** The queue summaries to check the rules against. */
  queues: () => Promise<readonly DeadLetterQueue[]>;
  /** Webhooks every notice goes to (`--alert-webhook`), besides each rule's own. */
  webhooks?: readonly string[];
  /** How a notice is POSTed (`fetchPost` in production). */
  post: WebhookPost;
  /** How often the rules are checked, in ms (default 5000). */
  intervalMs?: number;
  /** Retry delays of failed POSTs (default `alertDefaults.webhookBackoff`). */
  webhookBackoff?: WebhookNotifierOptions['backoff'];
  /** Give a notice up this long after its event, in ms (default a day). */
  webhookDeadlineMs?: number;
  /** Events kept (default 1000). */
  maxEvents?: number;
  /** Rules at most (default 1000). */
  maxRules?: number;
  clock?: Clock;
  random?: Random;
  logger: Logger;
}

/** Which rules and events to report. */
export interface AlertScope {
  /** Only this topic; empty or undefined: all. */
  topic?: string;
  /** Only this subscription; empty or undefined: all. */
  subscription?: string;
}

const inScope = (scope: AlertScope, item: { topic: string; subscription: string }): boolean =>
  (scope.topic === undefined || scope.topic === '' || item.topic === scope.topic) &&
  (scope.subscription === undefined || scope.subscription === '' || item.subscription === scope.subscription);

const byQueueThenId = (a: AlertRule, b: AlertRule): number =>
  a.topic.localeCompare(b.topic) || a.subscription.localeCompare(b.subscription) || a.id.localeCompare(b.id);

const queueId = (topic: string, subscription: string): string => `${topic}\u0000${subscription}`;

/** See the file comment. */
export class AlertMonitor {
  /** Counters for `ListAlertStates` (and, later, a metrics endpoint). */
  readonly metrics = new AlertMetrics();
  private readonly rules = new Map<string, AlertRule>();
  private readonly states = new Map<string, RuleState>();
  /** The last `maxEvents` events, oldest first. */
  private readonly events: AlertEvent[] = [];
  private readonly notifier: WebhookNotifier;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly maxEvents: number;
  private readonly maxRules: number;
  private readonly webhooks: readonly string[];
  private readonly stopping = new AbortController();
  private tail: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly options: AlertMonitorOptions,
    private lastEventId: number,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'alerts' });
    this.intervalMs = options.intervalMs ?? alertDefaults.intervalMs;
    this.maxEvents = options.maxEvents ?? alertDefaults.maxEvents;
    this.maxRules = options.maxRules ?? alertDefaults.maxRules;
    this.webhooks = options.webhooks ?? [];
    this.notifier = new WebhookNotifier({
      post: options.post,
      backoff: options.webhookBackoff,
      deadlineMs: options.webhookDeadlineMs,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
      random: options.random,
      // An event older than the kept window was deleted: do not bring it back.
      onUpdate: (event) => (event.id > this.lastEventId - this.maxEvents ? options.store.putAlertEvent(event) : Promise.resolve()),
    });
  }

  /** Loads the rules, their states and the kept events from the store. */
  static async open(options: AlertMonitorOptions): Promise<AlertMonitor> {
    const monitor = new AlertMonitor(options, await options.store.lastAlertEventId());
    const states = await options.store.alertStates();
    for await (const rule of options.store.alertRules()) {
      monitor.rules.set(rule.id, rule);
      monitor.states.set(rule.id, states.get(rule.id) ?? initialRuleState());
    }
    for await (const event of options.store.alertEvents()) {
      if (monitor.events.length === monitor.maxEvents) break;
      monitor.events.push(event);
    }
    monitor.events.reverse();
    return monitor;
  }

  /** Resumes the notices left pending by the previous run, then checks the rules every interval. */
  start(): void {
    if (this.loop !== undefined) return;
    for (const event of this.events) {
      if (event.deliveries.some((d) => d.status === WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING)) {
        this.notifier.notify(event, JSON.stringify(alertPayload(event, this.rules.get(event.ruleId))));
      }
    }
    this.loop = this.run(this.stopping.signal);
  }

  /** Stops checking and retrying (pending notices resume at the next start). */
  async stop(): Promise<void> {
    this.stopping.abort(new ShuttingDownError('dlq-admin'));
    await this.loop;
    await this.tail;
    await this.notifier.close();
  }

  /** Checks every rule once now (the loop calls this every interval). */
  check(): Promise<void> {
    return this.exclusive(async () => {
      const queues = new Map((await this.options.queues()).map((q) => [queueId(q.topic, q.subscription), q]));
      const now = this.clock.now();
      for (const rule of this.rules.values()) {
        const previous = this.states.get(rule.id) ?? initialRuleState();
        const value = metricValue(rule.metric, queues.get(queueId(rule.topic, rule.subscription)));
        const step = stepRule(rule, previous, value, now);
        this.states.set(rule.id, step.state);
        this.metrics.evaluations++;
        if (step.statusChanged) await this.options.store.putAlertState(rule.id, { rule: undefined, ...step.state });
        if (step.event === AlertEventKind.ALERT_EVENT_KIND_FIRING) {
          const held = rule.forMs > 0 ? ` for ${now - previous.sinceMs}ms` : '';
          await this.record(rule, step.event, value, `${metricName(rule.metric)} ${value} > ${rule.threshold}${held}`);
        } else if (step.event === AlertEventKind.ALERT_EVENT_KIND_RESOLVED) {
          await this.record(rule, step.event, value, `${metricName(rule.metric)} ${value} <= ${rule.clearThreshold}`);
        }
      }
      this.metrics.lastCheckMs = now;
    });
  }

  /** Adds a checked rule (see `alert-rule.ts`); FAILED_PRECONDITION beyond `maxRules`. */
  addRule(rule: AlertRule): Promise<void> {
    return this.exclusive(async () => {
      if (this.rules.size >= this.maxRules) {
        throw new FailedPreconditionError(`there are ${this.rules.size} alert rules already, the most dlq-admin keeps; delete some first`, {
          metadata: { limit: String(this.maxRules) },
        });
      }
      await this.options.store.putAlertRule(rule);
      this.rules.set(rule.id, rule);
      this.states.set(rule.id, initialRuleState());
      this.logger.info({ ruleId: rule.id, topic: rule.topic, subscription: rule.subscription, rule: describeRule(rule) }, 'alert rule created');
    });
  }

  /**
   * Deletes a rule and returns it; a firing rule sends a last "resolved"
   * notice (so receivers do not keep an alert open forever). NOT_FOUND when
   * there is no such rule.
   */
  deleteRule(id: string): Promise<AlertRule> {
    return this.exclusive(async () => {
      const rule = this.rules.get(id);
      if (rule === undefined) throw new NotFoundError(`no alert rule with id "${id}"`, { metadata: { ruleId: id } });
      const state = this.states.get(id);
      await this.options.store.deleteAlertRule(id);
      this.rules.delete(id);
      this.states.delete(id);
      this.logger.info({ ruleId: id, topic: rule.topic, subscription: rule.subscription }, 'alert rule deleted');
      if (state?.status === AlertStatus.ALERT_STATUS_FIRING) await this.record(rule, AlertEventKind.ALERT_EVENT_KIND_RESOLVED, state.value, 'rule deleted while firing');
      return rule;
    });
  }

  /** Whether a rule with this id exists. */
  hasRule(id: string): boolean {
    return this.rules.has(id);
  }

  /** The rules in `scope`, ordered by topic, subscription and id. */
  listRules(scope: AlertScope = {}): AlertRule[] {
    return [...this.rules.values()].filter((rule) => inScope(scope, rule)).sort(byQueueThenId);
  }

  /** The states of the rules in `scope`, ordered like `listRules`. */
  listStates(scope: AlertScope = {}): AlertState[] {
    return this.listRules(scope).map((rule) => ({ ...(this.states.get(rule.id) ?? initialRuleState()), rule }));
  }

  /** The latest `limit` events in `scope`, newest first. */
  listEvents(limit: number, scope: AlertScope = {}): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (let index = this.events.length - 1; index >= 0 && out.length < limit; index--) {
      const event = this.events[index];
      if (event !== undefined && inScope(scope, event)) out.push(structuredClone(event));
    }
    return out;
  }

  /** The alerting counters and gauges of this process. */
  counters(): AlertCounters {
    let firing = 0;
    for (const state of this.states.values()) if (state.status === AlertStatus.ALERT_STATUS_FIRING) firing++;
    return {
      firingRules: firing,
      notificationsSent: this.metrics.notificationsSent,
      notificationsFailed: this.metrics.notificationsFailed,
      notificationRetries: this.metrics.notificationRetries,
      notificationsPending: this.notifier.pending,
      evaluations: this.metrics.evaluations,
      lastCheckMs: this.metrics.lastCheckMs,
    };
  }

  /** Resolves once no notice is pending (for tests). */
  whenDelivered(): Promise<void> {
    return this.notifier.whenIdle();
  }

  private async run(signal: AbortSignal): Promise<void> {
    for (;;) {
      // The sleep rejects only when stopping.
      const stopped = await this.clock.sleep(this.intervalMs, signal).then(() => false, () => true);
      if (stopped) return;
      try {
        await this.check();
      } catch (error) {
        this.logger.error({ err: error }, 'alert check failed; trying again at the next interval');
      }
    }
  }

  private async record(rule: AlertRule, kind: AlertEventKind, value: number, reason: string): Promise<void> {
    const webhooks = [...new Set([...this.webhooks, ...rule.webhooks])];
    const event: AlertEvent = {
      id: ++this.lastEventId,
      ruleId: rule.id,
      topic: rule.topic,
      subscription: rule.subscription,
      metric: rule.metric,
      kind,
      value,
      threshold: kind === AlertEventKind.ALERT_EVENT_KIND_FIRING ? rule.threshold : rule.clearThreshold,
      timeMs: this.clock.now(),
      reason,
      deliveries: webhooks.map((url) => ({ url, status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING, attempts: 0, lastError: '', finishedAtMs: 0 })),
    };
    await this.options.store.putAlertEvent(event);
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    if (event.id > this.maxEvents) await this.options.store.dropAlertEventsBelow(event.id - this.maxEvents + 1);
    const fields = {
      eventId: event.id,
      ruleId: rule.id,
      topic: rule.topic,
      subscription: rule.subscription,
      metric: metricName(rule.metric),
      value,
      threshold: event.threshold,
      state: eventStateName(kind),
      webhooks: webhooks.length,
    };
    if (kind === AlertEventKind.ALERT_EVENT_KIND_FIRING) this.logger.warn(fields, `dlq alert firing: ${reason}`);
    else this.logger.info(fields, `dlq alert resolved: ${reason}`);
    this.notifier.notify(event, JSON.stringify(alertPayload(event, rule)));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
