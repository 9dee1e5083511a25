// The FakeBroker's Subscribe protocol, driven with a raw grpc-js client: the
// contract the Consumer is tested against, and that the real broker must
// honour too (proto/braid/v1/consumer.proto).
import { credentials, status as Status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { ConsumerServiceClient, Jitter, NoticeType, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import type { NackRequest, RetryPolicy, SubscribeRequest, SubscribeResponse } from '@braid/proto';
import { FakeBroker } from './testing.js';

let broker: FakeBroker;
let client: ConsumerServiceClient;

beforeEach(async () => {
  broker = await FakeBroker.start();
  client = new ConsumerServiceClient(broker.address, credentials.createInsecure());
});

afterEach(() => {
  client.close();
  broker.stop();
});

/** A Subscribe stream with everything it received collected. */
function open() {
  const call: ClientDuplexStream<SubscribeRequest, SubscribeResponse> = client.subscribe();
  const received: SubscribeResponse[] = [];
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on('error', (error: ServiceError) => { resolve(error); });
    call.on('status', (s: { code: Status }) => { if (s.code === Status.OK) resolve(undefined); });
  });
  call.on('data', (response: SubscribeResponse) => received.push(response));
  const of = <C extends NonNullable<SubscribeResponse['kind']>['$case']>(kind: C) =>
    received.filter((r) => r.kind?.$case === kind).map((r) => r.kind?.value as Extract<NonNullable<SubscribeResponse['kind']>, { $case: C }>['value']);
  return { call, received, ended, of };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface OpenExtra {
  memberId: string;
  createIfMissing: boolean;
  ackTimeoutMs: number;
  mode: SubscriptionMode;
  retryPolicy: Partial<RetryPolicy>;
}

const openRequest = (credit: { records: number; bytes: number }, extra: Partial<OpenExtra> = {}): SubscribeRequest => ({
  kind: {
    $case: 'open',
    value: {
      topic: 't',
      subscription: 's',
      memberId: extra.memberId ?? 'm1',
      createIfMissing: extra.createIfMissing ?? true,
      config: {
        mode: extra.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED,
        startPosition: StartPosition.START_POSITION_EARLIEST,
        startTimeMs: 0,
        ackTimeoutMs: extra.ackTimeoutMs ?? 0,
        maxUnackedPerMember: 0,
        deadLetterTopic: '',
        retryPolicy: extra.retryPolicy
          ? { maxAttempts: 0, initialBackoffMs: 0, multiplier: 0, maxBackoffMs: 0, jitter: Jitter.JITTER_UNSPECIFIED, retryOrder: RetryOrder.RETRY_ORDER_UNSPECIFIED, ...extra.retryPolicy }
          : undefined,
      },
      initialCredit: credit,
    },
  },
});

describe('FakeBroker Subscribe protocol', () => {
  it('ends a stream whose first message is not open with FAILED_PRECONDITION', async () => {
    broker.createTopic('t');
    const s = open();
    s.call.write({ kind: { $case: 'credit', value: { records: 1, bytes: 0 } } });
    expect((await s.ended)?.code).toBe(Status.FAILED_PRECONDITION);
  });

  it('ends with NOT_FOUND for an unknown topic, or an unknown subscription without create_if_missing', async () => {
    const s = open();
    s.call.write(openRequest({ records: 1, bytes: 0 }));
    expect((await s.ended)?.code).toBe(Status.NOT_FOUND);
    broker.createTopic('t');
    const t = open();
    t.call.write(openRequest({ records: 1, bytes: 0 }, { createIfMissing: false }));
    expect((await t.ended)?.code).toBe(Status.NOT_FOUND);
  });

  it('ends with INVALID_ARGUMENT for negative credit', async () => {
    broker.createTopic('t');
    const s = open();
    s.call.write(openRequest({ records: 1, bytes: 0 }));
    s.call.write({ kind: { $case: 'credit', value: { records: -1, bytes: 0 } } });
    expect((await s.ended)?.code).toBe(Status.INVALID_ARGUMENT);
  });

  it('answers open, delivers within the record credit, and more after a grant', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })));
    const s = open();
    s.call.write(openRequest({ records: 2, bytes: 0 }));
    await until(() => s.of('deliveries').flatMap((b) => b.deliveries).length === 2);
    expect(s.of('opened')).toEqual([expect.objectContaining({ memberId: 'm1', partitions: [0] })]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(s.of('deliveries').flatMap((b) => b.deliveries)).toHaveLength(2);
    s.call.write({ kind: { $case: 'credit', value: { records: 10, bytes: 0 } } });
    await until(() => s.of('deliveries').flatMap((b) => b.deliveries).length === 5);
    const first = s.of('deliveries')[0]?.deliveries[0];
    expect(first).toMatchObject({ attempt: 1, record: { topic: 't', partition: 0, offset: 0 } });
    s.call.end();
    expect(await s.ended).toBeUndefined();
  });

  it('answers an ack of a record the member does not hold with a StreamError and keeps the stream open', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const s = open();
    s.call.write(openRequest({ records: 5, bytes: 0 }));
    await until(() => s.of('deliveries').length === 1);
    s.call.write({ kind: { $case: 'ack', value: { ranges: [{ partition: 0, first: 0, last: 3 }] } } });
    await until(() => s.of('error').length === 1);
    expect(s.of('error')[0]).toMatchObject({ code: Status.FAILED_PRECONDITION });
    expect(broker.subscriptions.describe('t', 's').partitions[0]?.committedOffset).toBe(1);
    s.call.end();
    expect(await s.ended).toBeUndefined();
  });

  it('expires a lease: LEASE_EXPIRED notice, then the record again with attempt 2', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const s = open();
    s.call.write(openRequest({ records: 5, bytes: 0 }, { ackTimeoutMs: 50, retryPolicy: { initialBackoffMs: 10, jitter: Jitter.JITTER_NONE } }));
    await until(() => s.of('deliveries').length === 2);
    expect(s.of('notice')[0]).toMatchObject({ type: NoticeType.NOTICE_TYPE_LEASE_EXPIRED, ranges: [{ partition: 0, first: 0, last: 0 }] });
    expect(s.of('deliveries')[1]?.deliveries[0]?.attempt).toBe(2);
    s.call.end();
  });

  it('hands a member id that opens again the records its old stream held', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const first = open();
    first.call.write(openRequest({ records: 5, bytes: 0 }));
    await until(() => first.of('deliveries').length === 1);
    const second = open();
    second.call.write(openRequest({ records: 5, bytes: 0 }));
    expect((await first.ended)?.code).toBe(Status.FAILED_PRECONDITION);
    await until(() => second.of('deliveries').length === 1);
    expect(second.of('deliveries')[0]?.deliveries[0]?.attempt).toBe(2);
    second.call.end();
  });
});

describe('FakeBroker retries, release and BLOCK_KEY (on a FakeClock)', () => {
  let clock: FakeClock;

  beforeEach(async () => {
    client.close();
    broker.stop();
    clock = new FakeClock();
    broker = await FakeBroker.start({ clock });
    client = new ConsumerServiceClient(broker.address, credentials.createInsecure());
    broker.createTopic('t');
  });

  /** Deliveries the fake made, as `value#attempt` (server side: no waiting for the wire). */
  const delivered = (): string[] =>
    broker.subscriptions.deliveries.map((d) => `${broker.log('t', d.partition)[d.offset]?.value ?? '?'}#${d.attempt}`);

  /** Sends a request and waits until the fake has handled it. */
  async function send(s: ReturnType<typeof open>, request: SubscribeRequest): Promise<void> {
    const before = broker.subscriptions.requests.length;
    s.call.write(request);
    await until(() => broker.subscriptions.requests.length > before);
  }
  const nack = (offset: number, extra: Partial<NackRequest> = {}): SubscribeRequest => ({
    kind: { $case: 'nack', value: { partition: 0, offset, delayMs: undefined, reason: 'boom', errorClass: 'Error', release: false, ...extra } },
  });
  const ack = (offset: number): SubscribeRequest => ({ kind: { $case: 'ack', value: { ranges: [{ partition: 0, first: offset, last: offset }] } } });

  /** Moves the fake's clock and lets it deliver what came due. */
  async function advance(ms: number): Promise<void> {
    await clock.advance(ms);
    broker.subscriptions.expireLeases();
  }

  it('retries a nack after the policy backoff with the next attempt; a release comes back at once without counting one', async () => {
    const s = open();
    s.call.write(openRequest({ records: 5, bytes: 0 }, { retryPolicy: { initialBackoffMs: 1_000, multiplier: 2, jitter: Jitter.JITTER_NONE } }));
    broker.publish('t', [{ value: 'a' }]);
    await until(() => delivered().length === 1);

    await send(s, nack(0));
    await advance(999);
    expect(delivered()).toEqual(['a#1']);
    await advance(1);
    expect(delivered()).toEqual(['a#1', 'a#2']);

    await send(s, nack(0, { release: true, reason: '', errorClass: '' }));
    expect(delivered()).toEqual(['a#1', 'a#2', 'a#2']);

    // The second failure waits twice as long.
    await send(s, nack(0));
    await advance(1_999);
    expect(delivered()).toHaveLength(3);
    await advance(1);
    expect(delivered()).toEqual(['a#1', 'a#2', 'a#2', 'a#3']);
    s.call.end();
  });

  it('dead-letters a record that fails its last attempt, with that attempt and reason', async () => {
    const s = open();
    s.call.write(openRequest({ records: 5, bytes: 0 }, { retryPolicy: { maxAttempts: 2 } }));
    broker.publish('t', [{ value: 'a' }]);
    await until(() => delivered().length === 1);
    await send(s, nack(0, { delayMs: 0 }));
    expect(delivered()).toEqual(['a#1', 'a#2']);
    await send(s, nack(0, { delayMs: 0, reason: 'still broken', errorClass: 'TypeError' }));
    expect(broker.subscriptions.deadLetters).toEqual([
      { topic: 't', subscription: 's', partition: 0, offset: 0, attempt: 2, reason: 'still broken', errorClass: 'TypeError' },
    ]);
    expect(broker.subscriptions.describe('t', 's').partitions[0]?.committedOffset).toBe(1);
    expect(delivered()).toHaveLength(2);
    s.call.end();
  });

  it('with BLOCK_KEY holds back later records of a failed key, new or released, until the failed record is acked; other keys flow', async () => {
    const s = open();
    s.call.write(openRequest({ records: 20, bytes: 0 }, { retryPolicy: { initialBackoffMs: 1_000, jitter: Jitter.JITTER_NONE } }));
    broker.publish('t', [
      { key: 'k', value: 'k1', partition: 0 },
      { key: 'k', value: 'k2', partition: 0 },
      { key: 'j', value: 'j1', partition: 0 },
    ]);
    await until(() => delivered().length === 3);
    await send(s, nack(0));
    await send(s, nack(1, { release: true }));
    await send(s, ack(2));
    broker.publish('t', [{ key: 'k', value: 'k3', partition: 0 }, { key: 'j', value: 'j2', partition: 0 }]);
    // k2 (released) and k3 (new) wait behind k1; j2 flows.
    expect(delivered()).toEqual(['k1#1', 'k2#1', 'j1#1', 'j2#1']);
    await advance(1_000);
    expect(delivered()).toEqual(['k1#1', 'k2#1', 'j1#1', 'j2#1', 'k1#2']);
    await send(s, ack(0));
    expect(delivered()).toEqual(['k1#1', 'k2#1', 'j1#1', 'j2#1', 'k1#2', 'k2#1', 'k3#1']);
    s.call.end();
  });

  it('with SKIP delivers later records of a failed key while it waits for its retry', async () => {
    const s = open();
    s.call.write(openRequest({ records: 20, bytes: 0 }, { retryPolicy: { initialBackoffMs: 1_000, jitter: Jitter.JITTER_NONE, retryOrder: RetryOrder.RETRY_ORDER_SKIP } }));
    broker.publish('t', [{ key: 'k', value: 'k1', partition: 0 }, { key: 'k', value: 'k2', partition: 0 }]);
    await until(() => delivered().length === 2);
    await send(s, nack(0));
    await send(s, nack(1, { release: true }));
    broker.publish('t', [{ key: 'k', value: 'k3', partition: 0 }]);
    expect(delivered()).toEqual(['k1#1', 'k2#1', 'k2#1', 'k3#1']);
    s.call.end();
  });

  it('counts what a broken stream held as failed, and hands back without an attempt what a member that ended its stream held', async () => {
    broker.publish('t', [{ value: 'a' }]);
    const first = open();
    first.call.write(openRequest({ records: 5, bytes: 0 }));
    await until(() => delivered().length === 1);
    first.call.end();
    await until(() => broker.subscriptions.describe('t', 's').partitions[0]?.pendingRetries === 1);
    const second = open();
    second.call.write(openRequest({ records: 5, bytes: 0 }));
    await until(() => delivered().length === 2);
    expect(delivered()).toEqual(['a#1', 'a#1']);
    broker.dropConsumerStreams();
    expect((await second.ended)?.code).toBe(Status.UNAVAILABLE);
    const third = open();
    third.call.write(openRequest({ records: 5, bytes: 0 }));
    await until(() => delivered().length === 3);
    expect(delivered()).toEqual(['a#1', 'a#1', 'a#2']);
    third.call.end();
  });
});
