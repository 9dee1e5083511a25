/**
 * The alert RPCs of `DlqAdminService` as plain methods taking and returning
 * the generated messages, for the gRPC handlers and the console's HTTP API
 * alike (transports only translate):
 *
 * ```ts
 * createRule(request: CreateAlertRuleRequest, context: CallContext): Promise<CreateAlertRuleResponse>
 * listRules(request: ListAlertRulesRequest): Promise<ListAlertRulesResponse>
 * deleteRule(request: DeleteAlertRuleRequest, context: CallContext): Promise<DeleteAlertRuleResponse>
 * listStates(request: ListAlertStatesRequest): Promise<ListAlertStatesResponse>
 * ```
 *
 * Rule changes check the admin token first (UNAUTHENTICATED, before any
 * other answer) and are written to the audit log through
 * `DlqService.audited` (actions `create-alert-rule`, `delete-alert-rule`);
 * reads stay open. INVALID_ARGUMENT names the bad field; a rule for a
 * subscription the cluster does not know is NOT_FOUND.
 */
import { randomBytes } from 'node:crypto';
import { assertValidName, systemClock } from '@braid/core';
import type { Clock } from '@braid/core';
import type { Admin } from '@braid/client';
import type {
  CreateAlertRuleRequest,
  CreateAlertRuleResponse,
  DeleteAlertRuleRequest,
  DeleteAlertRuleResponse,
  ListAlertRulesRequest,
  ListAlertRulesResponse,
  ListAlertStatesRequest,
  ListAlertStatesResponse,
} from '@braid/proto';
import type { CallContext, DlqService } from '../dlq-service.js';
import { actorOf, invalid } from '../request-checks.js';
import { alertDefaults } from './alert-defaults.js';
import type { AlertMonitor } from './alert-monitor.js';
import { checkRuleRequest, describeRule } from './alert-rule.js';

/** Options of {@link AlertService}. */
export interface AlertServiceOptions {
  monitor: AlertMonitor;
  /** The service layer: the admin token check, the audit log and the queue summaries. */
  service: Pick<DlqService, 'authorize' | 'audited' | 'listQueues'>;
  /** Asked whether a subscription with no dead-letter queue yet exists (NOT_FOUND when not). */
  admin: Pick<Admin, 'describeSubscription'>;
  clock?: Clock;
  /** New rule ids (default: 8 random hex digits). */
  newRuleId?: () => string;
}

function checkScope(topic: string, subscription: string): void {
  if (topic !== '') assertValidName('topic', topic);
  if (subscription !== '') assertValidName('subscription', subscription);
}

/** See the file comment. */
export class AlertService {
  private readonly clock: Clock;
  private readonly newRuleId: () => string;

  constructor(private readonly options: AlertServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.newRuleId = options.newRuleId ?? (() => randomBytes(4).toString('hex'));
  }

  /** Adds a rule (see `CreateAlertRule` in dlq_admin.proto). */
  async createRule(request: CreateAlertRuleRequest, context: CallContext): Promise<CreateAlertRuleResponse> {
    this.options.service.authorize(context);
    let id = this.newRuleId();
    while (this.options.monitor.hasRule(id)) id = this.newRuleId();
    const rule = checkRuleRequest(request, { id, createdAtMs: this.clock.now(), createdBy: actorOf(request.actor) });
    const webhooks = rule.webhooks.length === 0 ? '' : `, ${rule.webhooks.length} webhook${rule.webhooks.length === 1 ? '' : 's'}`;
    return this.options.service.audited(
      context,
      {
        actor: request.actor,
        action: 'create-alert-rule',
        topic: rule.topic,
        subscription: rule.subscription,
        selection: `rule ${rule.id}: ${describeRule(rule)}${webhooks}`,
        dryRun: false,
      },
      async () => {
        await this.checkQueueExists(rule.topic, rule.subscription);
        await this.options.monitor.addRule(rule);
        return { result: { rule }, recordCount: 0 };
      },
    );
  }

  /** The rules, optionally of one topic and/or subscription. */
  listRules(request: ListAlertRulesRequest): Promise<ListAlertRulesResponse> {
    checkScope(request.topic, request.subscription);
    return Promise.resolve({ rules: this.options.monitor.listRules(request) });
  }

  /** Deletes a rule (see `DeleteAlertRule` in dlq_admin.proto). */
  async deleteRule(request: DeleteAlertRuleRequest, context: CallContext): Promise<DeleteAlertRuleResponse> {
    this.options.service.authorize(context);
    if (request.id === '') throw invalid('id', 'is required');
    const known = this.options.monitor.listRules().find((rule) => rule.id === request.id);
    return this.options.service.audited(
      context,
      {
        actor: request.actor,
        action: 'delete-alert-rule',
        topic: known?.topic ?? '',
        subscription: known?.subscription ?? '',
        selection: known === undefined ? `rule ${request.id}` : `rule ${known.id}: ${describeRule(known)}`,
        dryRun: false,
      },
      async () => ({ result: { rule: await this.options.monitor.deleteRule(request.id) }, recordCount: 0 }),
    );
  }

  /** Every rule's state, the latest events and the counters. */
  listStates(request: ListAlertStatesRequest): Promise<ListAlertStatesResponse> {
    checkScope(request.topic, request.subscription);
    const limit = request.eventLimit === 0 ? alertDefaults.eventLimit : request.eventLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > alertDefaults.maxEventLimit) {
      throw invalid('event_limit', `must be 1-${alertDefaults.maxEventLimit} (0: ${alertDefaults.eventLimit}), got ${request.eventLimit}`);
    }
    const monitor = this.options.monitor;
    return Promise.resolve({ states: monitor.listStates(request), events: monitor.listEvents(limit, request), counters: monitor.counters() });
  }

  /**
   * A queue dlq-admin knows exists; otherwise the cluster must know the
   * subscription (its NOT_FOUND names the topic or the subscription).
   */
  private async checkQueueExists(topic: string, subscription: string): Promise<void> {
    const { queues } = await this.options.service.listQueues({ topic, refresh: false });
    if (queues.some((queue) => queue.subscription === subscription)) return;
    await this.options.admin.describeSubscription(topic, subscription);
  }
}
