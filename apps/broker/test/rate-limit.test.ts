// The subscription-wide rate limit and the circuit breaker on a real broker
// (issue 5): 4 members share 100 records/s (every 5-second window within
// 10%, nobody starves, the limit changes at runtime), and a failure burst
// opens the breaker, which probes after its cool-down and closes again.
import { describe, expect, it } from 'vitest';
import { CircuitState, NoticeType, StartPosition, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import { call, createSubscription, createTopic, describeSubscription, publish } from './grpc-helpers.js';
import { useLocalCluster } from './cluster-fixture.js';
import { SubscribeClient } from './subscribe-client.js';


const t = useLocalCluster();


async function publishMany(topic: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await publish(t.api.producer, {
      topic,
      records: Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ key: Buffer.from(`k${(i + j) % 97}`), value: Buffer.from(`sms-${i + j}`), headers: {} })),
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('subscription rate limit', () => {
  it('holds 4 members together to 100 records/s, shared fairly, and follows a runtime change', async () => {
    await createTopic(t.api.admin, 'sms', { partitions: 4 });
    const config = {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
      startPosition: StartPosition.START_POSITION_EARLIEST,
      rateLimit: { recordsPerSecond: 100, burst: 10 },
    };
    await createSubscription(t.api.admin, 'sms', 'provider', config);
    await publishMany('sms', 5000);
    const arrivals: { at: number; member: number }[] = [];
    const members = [0, 1, 2, 3].map((member) => {
      const client = new SubscribeClient(t.consumers, true);
      client.open('sms', 'provider', { memberId: `m${member}`, credit: 100_000, mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED });
      return client;
    });
    const started = Date.now();
    const counted = members.map(() => 0);
    const timer = setInterval(() => {
      members.forEach((client, member) => {
        for (let i = counted[member] ?? 0; i < client.deliveries.length; i++) arrivals.push({ at: Date.now(), member });
        counted[member] = client.deliveries.length;
      });
    }, 10);
    await sleep(20_000);
    const windows = [0, 1, 2, 3].map((w) => arrivals.filter((a) => a.at - started >= w * 5000 && a.at - started < (w + 1) * 5000).length / 5);
    for (const rate of windows) {
      expect(rate).toBeGreaterThanOrEqual(90);
      expect(rate).toBeLessThanOrEqual(110);
    }
    const perMember = [0, 1, 2, 3].map((m) => arrivals.filter((a) => a.member === m).length);
    const total = perMember.reduce((a, b) => a + b, 0);
    // Fair sharing: each of the 4 members gets close to a quarter.
    for (const share of perMember) expect(share / total).toBeGreaterThan(0.15);

    // Raise the limit at runtime; after the change reaches the broker, 200/s.
    await call((cb) => {
      t.api.admin.updateSubscription(
        { topic: 'sms', name: 'provider', config: SubscriptionConfig.fromPartial({ ...config, rateLimit: { recordsPerSecond: 200, burst: 10 } }) },
        cb,
      );
    });
    await sleep(1000);
    const from = Date.now();
    await sleep(5000);
    const raised = arrivals.filter((a) => a.at >= from && a.at < from + 5000).length / 5;
    expect(raised).toBeGreaterThanOrEqual(180);
    expect(raised).toBeLessThanOrEqual(220);
    clearInterval(timer);
    for (const client of members) client.end();
  }, 60_000);
});

describe('circuit breaker', () => {
  it('opens on a failure burst, probes after the cool-down and closes when probes succeed', async () => {
    await createTopic(t.api.admin, 'webhooks', { partitions: 1 });
    await createSubscription(t.api.admin, 'webhooks', 'partner', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
      startPosition: StartPosition.START_POSITION_EARLIEST,
      retryPolicy: { maxAttempts: 1000, initialBackoffMs: 1, maxBackoffMs: 1 },
      circuitBreaker: { enabled: true, failureRatio: 0.5, windowMs: 10_000, minSettlements: 10, cooldownMs: 1500, probeRecords: 3 },
    });
    await publishMany('webhooks', 200);
    const client = new SubscribeClient(t.consumers);
    client.open('webhooks', 'partner', { credit: 5, mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED });
    // The partner is down: every delivery fails.
    let healthy = false;
    let handled = 0;
    const settle = setInterval(() => {
      for (; handled < client.deliveries.length; handled++) {
        const d = client.deliveries[handled];
        if (!d) continue;
        const position = { partition: d.record?.partition ?? 0, offset: d.record?.offset ?? 0 };
        if (healthy) client.ack([d]);
        else client.send({ kind: { $case: 'nack', value: { ...position, reason: 'partner down', errorClass: 'HttpError', release: false } } });
        client.credit(1);
      }
    }, 5);
    const noticeOf = (type: NoticeType): Promise<void> =>
      (async () => {
        const deadline = Date.now() + 20_000;
        while (!client.notices.some((n) => n.type === type)) {
          if (Date.now() > deadline) throw new Error(`no ${NoticeType[type]} notice`);
          await sleep(20);
        }
      })();
    await noticeOf(NoticeType.NOTICE_TYPE_CIRCUIT_OPEN);
    expect((await describeSubscription(t.api.admin, 'webhooks', 'partner')).circuitState).toBe(CircuitState.CIRCUIT_STATE_OPEN);
    // Paused: nothing is delivered during the cool-down.
    const pausedAt = client.deliveries.length;
    await sleep(1000);
    expect(client.deliveries.length).toBe(pausedAt);
    healthy = true;
    await noticeOf(NoticeType.NOTICE_TYPE_CIRCUIT_HALF_OPEN);
    await noticeOf(NoticeType.NOTICE_TYPE_CIRCUIT_CLOSED);
    expect((await describeSubscription(t.api.admin, 'webhooks', 'partner')).circuitState).toBe(CircuitState.CIRCUIT_STATE_CLOSED);
    // Delivery resumed: the rest arrives.
    await client.waitFor(pausedAt + 50, 20_000);
    clearInterval(settle);
    client.end();
  }, 60_000);
});
