// Alert rules through dlq-admin's gRPC API (the SDK's DlqAdmin) against a
// real coordinator, broker and dlq-admin with BRAID_ADMIN_TOKEN set and an
// alert webhook whose receiver is down at first (issue 7): rule changes
// without the token are UNAUTHENTICATED and leave no trace; a rule fires
// once when records are dead-lettered, its notice waits while the receiver
// is down and reaches it once it comes back; the rule resolves once when
// the queue is purged; rules, states and events survive a restart without
// firing again; rule changes are in the audit log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, AlertEventKind, AlertMetric, AlertStatus, Consumer, DlqAdmin, Producer, WebhookDeliveryStatus } from '@braid/client';
import { failure, freePort, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import type { AlertPayload } from '../src/alerts/alert-payload.js';
import { WebhookReceiver } from './webhook-receiver.js';

const token = 'alerts-admin-token';
const queue = { topic: 'orders', subscription: 'billing' };

let cluster: LocalCluster;
let dataDir: string;
let dlqAdmin: AppProcess;
let dlq: DlqAdmin;
let anonymous: DlqAdmin;
let admin: Admin;
let webhookPort: number;
let receiver: WebhookReceiver | undefined;
let consumer: Consumer;
let consuming: Promise<void>;

function startDlqAdmin(): Promise<AppProcess> {
  return startApp('dlq-admin', {
    args: [
      '--data-dir', dataDir,
      '--broker', cluster.broker.address,
      '--http-port', '0',
      '--poll-interval-ms', '200',
      '--alert-interval-ms', '200',
      '--alert-webhook', `http://127.0.0.1:${webhookPort}/hooks/braid`,
    ],
    env: { BRAID_ADMIN_TOKEN: token },
  });
}

function connect(): void {
  dlq = new DlqAdmin({ address: dlqAdmin.address, token });
  anonymous = new DlqAdmin({ address: dlqAdmin.address });
}

beforeAll(async () => {
  cluster = await startLocalCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'braid-dlq-alerts-'));
  // Reserved for the receiver, which is down for now: nothing listens there.
  webhookPort = await freePort();
  dlqAdmin = await startDlqAdmin();
  connect();
  admin = new Admin({ brokers: cluster.broker.address });
  await admin.createTopic(queue.topic, { partitions: 1 });
  await admin.createSubscription(queue.topic, queue.subscription, {});
  consumer = new Consumer({ brokers: cluster.broker.address, ...queue });
  consuming = (async () => {
    for await (const message of consumer) message.reject('billing refuses everything', { errorClass: 'Refused' });
  })();
}, 120_000);

afterAll(async () => {
  await consumer.close({ timeoutMs: 2_000 });
  await consuming;
  dlq.close();
  anonymous.close();
  admin.close();
  await receiver?.close();
  await dlqAdmin.stop();
  await cluster.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dlq-admin alerts', () => {
  it('refuses rule changes without the admin token, whatever the request, and leaves no audit entry', async () => {
    const create = { ...queue, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 2 };
    for (const call of [
      () => anonymous.createAlertRule(create),
      () => anonymous.createAlertRule({}),
      () => anonymous.deleteAlertRule({ id: 'nope' }),
      () => new DlqAdmin({ address: dlqAdmin.address, token: 'wrong' }).createAlertRule(create),
    ]) {
      expect((await failure(call())).reason).toBe('UNAUTHENTICATED');
    }
    expect(await dlq.listAlertRules()).toEqual([]);
    expect((await dlq.listAudit()).entries).toEqual([]);
    // Reads stay open.
    expect(await anonymous.listAlertStates()).toMatchObject({ states: [], events: [], counters: { firingRules: 0 } });
  });

  it('checks a rule before keeping it: INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown subscription', async () => {
    const bad = async (request: Parameters<DlqAdmin['createAlertRule']>[0], field: string): Promise<void> => {
      const error = await failure(dlq.createAlertRule(request));
      expect(error.reason, field).toBe('INVALID_ARGUMENT');
      expect(error.metadata.field).toBe(field);
    };
    await bad({ ...queue, threshold: 1 }, 'metric');
    await bad({ ...queue, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: -1 }, 'threshold');
    await bad({ ...queue, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 5, clearThreshold: 6 }, 'clear_threshold');
    await bad({ ...queue, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 5, webhooks: ['not a url'] }, 'webhooks[0]');
    await bad({ topic: queue.topic, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 5 }, 'subscription');
    const unknown = await failure(dlq.createAlertRule({ topic: queue.topic, subscription: 'nobody', metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 5 }));
    expect(unknown.reason).toBe('SUBSCRIPTION_NOT_FOUND');
    expect((await failure(dlq.deleteAlertRule({}))).reason).toBe('INVALID_ARGUMENT');
    expect((await failure(dlq.listAlertStates({ eventLimit: 5000 }))).reason).toBe('INVALID_ARGUMENT');
  });

  it('fires once when the queue crosses the threshold; the notice reaches a receiver that was down once it comes back', async () => {
    const rule = await dlq.createAlertRule({ ...queue, metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 2, description: 'billing rejects orders', actor: 'alice' });
    expect(rule).toMatchObject({ ...queue, threshold: 2, clearThreshold: 2, createdBy: 'alice' });
    expect(rule.id).toMatch(/^[0-9a-f]{8}$/);

    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send(queue.topic, [1, 2, 3, 4, 5].map((n) => ({ key: `order-${n}`, value: JSON.stringify({ n }) })));
    await producer.close();

    // It fires; the receiver is down, so the delivery fails and stays pending.
    await expect
      .poll(async () => (await dlq.listAlertStates()).events[0]?.deliveries[0]?.attempts ?? 0, { timeout: 30_000, interval: 200 })
      .toBeGreaterThanOrEqual(1);
    const down = await dlq.listAlertStates();
    expect(down.states).toMatchObject([{ rule: { id: rule.id }, status: AlertStatus.ALERT_STATUS_FIRING, firedCount: 1 }]);
    expect(down.events).toHaveLength(1);
    expect(down.events[0]).toMatchObject({ ruleId: rule.id, kind: AlertEventKind.ALERT_EVENT_KIND_FIRING, threshold: 2, ...queue });
    expect(down.events[0]?.deliveries[0]).toMatchObject({ url: `http://127.0.0.1:${webhookPort}/hooks/braid`, status: WebhookDeliveryStatus.WEBHOOK_DELIVERY_STATUS_PENDING });
    expect(down.events[0]?.deliveries[0]?.lastError).toContain('ECONNREFUSED');
    expect(down.counters).toMatchObject({ firingRules: 1, notificationsSent: 0, notificationsPending: 1 });

    // The receiver comes back where it was configured and gets the notice, once.
    receiver = await WebhookReceiver.start(webhookPort);
    const received = receiver;
    await expect.poll(() => received.received.length, { timeout: 60_000, interval: 200 }).toBe(1);
    const notice = received.bodies<AlertPayload>()[0];
    expect(notice).toMatchObject({
      type: 'braid.dlq.alert',
      state: 'firing',
      rule: { id: rule.id, metric: 'depth', threshold: 2, description: 'billing rejects orders' },
      queue,
      metric: 'depth',
      threshold: 2,
    });
    expect(notice?.value).toBeGreaterThan(2);
    expect(received.received[0]?.headers['braid-alert-event-id']).toBe(String(notice?.eventId));
    await expect
      .poll(async () => (await dlq.listAlertStates()).counters, { timeout: 10_000 })
      .toMatchObject({ notificationsSent: 1, notificationsPending: 0, notificationsFailed: 0 });
    expect((await dlq.listAlertStates()).counters?.notificationRetries).toBeGreaterThanOrEqual(1);
  });

  it('stays firing without another notice across a restart, then resolves once when the queue is purged', async () => {
    await expect.poll(async () => (await dlq.listQueues({ ...queue, refresh: true }))[0]?.depth, { timeout: 30_000 }).toBe(5);
    dlq.close();
    anonymous.close();
    await dlqAdmin.stop();
    dlqAdmin = await startDlqAdmin();
    connect();
    const [state] = (await dlq.listAlertStates()).states;
    expect(state).toMatchObject({ status: AlertStatus.ALERT_STATUS_FIRING, firedCount: 1 });
    // Several checks later: still one notice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver?.received).toHaveLength(1);

    await dlq.purge({ ...queue, selection: { selection: { $case: 'all', value: true } }, actor: 'alice' });
    await expect.poll(() => receiver?.bodies<AlertPayload>().map((b) => b.state), { timeout: 20_000 }).toEqual(['firing', 'resolved']);
    expect(receiver?.bodies<AlertPayload>()[1]).toMatchObject({ value: 0, threshold: 2, reason: 'depth 0 <= 2' });
    const after = await dlq.listAlertStates();
    expect(after.states).toMatchObject([{ status: AlertStatus.ALERT_STATUS_OK, value: 0, firedCount: 1 }]);
    expect(after.events.map((e) => e.kind)).toEqual([AlertEventKind.ALERT_EVENT_KIND_RESOLVED, AlertEventKind.ALERT_EVENT_KIND_FIRING]);
    expect(after.counters?.firingRules).toBe(0);
  });

  it('deletes rules with the token, audit-logged with the failed attempt too', async () => {
    const [rule] = await dlq.listAlertRules({ topic: queue.topic });
    expect((await failure(anonymous.deleteAlertRule({ id: rule?.id ?? '' }))).reason).toBe('UNAUTHENTICATED');
    expect(await dlq.deleteAlertRule({ id: rule?.id ?? '', actor: 'bob' })).toMatchObject({ id: rule?.id });
    expect((await failure(dlq.deleteAlertRule({ id: rule?.id ?? '', actor: 'bob' }))).reason).toBe('NOT_FOUND');
    expect(await dlq.listAlertRules()).toEqual([]);
    const { entries } = await dlq.listAudit();
    expect(entries.map((e) => [e.action, e.actor, e.outcome.replace(/:.*/, '')])).toEqual([
      ['delete-alert-rule', 'bob', 'failed'],
      ['delete-alert-rule', 'bob', 'ok'],
      ['purge', 'alice', 'ok'],
      ['create-alert-rule', 'alice', 'ok'],
      // The rule for an unknown subscription got as far as asking the cluster.
      ['create-alert-rule', 'anonymous', 'failed'],
    ]);
    expect(entries[3]).toMatchObject({ ...queue, selection: `rule ${rule?.id}: depth > 2` });
  });
});
