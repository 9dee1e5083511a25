// The FakeBroker's Subscribe protocol, driven with a raw grpc-js client: the
// contract the Consumer is tested against, and that the real broker must
// honour too (proto/braid/v1/consumer.proto).
import { credentials, status as Status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerServiceClient, NoticeType, StartPosition, SubscriptionMode } from '@braid/proto';
import type { SubscribeRequest, SubscribeResponse } from '@braid/proto';
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

const openRequest = (credit: { records: number; bytes: number }, extra: Partial<{ memberId: string; createIfMissing: boolean; ackTimeoutMs: number }> = {}): SubscribeRequest => ({
  kind: {
    $case: 'open',
    value: {
      topic: 't',
      subscription: 's',
      memberId: extra.memberId ?? 'm1',
      createIfMissing: extra.createIfMissing ?? true,
      config: {
        mode: SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED,
        startPosition: StartPosition.START_POSITION_EARLIEST,
        startTimeMs: 0,
        ackTimeoutMs: extra.ackTimeoutMs ?? 0,
        maxUnackedPerMember: 0,
        deadLetterTopic: '',
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
    s.call.write(openRequest({ records: 5, bytes: 0 }, { ackTimeoutMs: 50 }));
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
