import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { InternalError, InvalidArgumentError, NotLeaderError, UnavailableError, seededRandom, silentLogger } from '@braid/core';
import type { BraidError } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import type { PublishRequest } from '@braid/proto';
import type { PartitionRoute } from './metadata-cache.js';
import { PartitionSender } from './partition-sender.js';
import type { PartitionSenderOptions } from './partition-sender.js';
import { ProducerBatch } from './producer-batch.js';
import type { PublishCallback } from './publish-stream.js';
import type { RecordMetadata } from './records.js';
import { SendCompletion } from './send-completion.js';

interface Call {
  address: string;
  request: PublishRequest;
  callback: PublishCallback;
}

interface Outcome {
  results?: RecordMetadata[];
  error?: BraidError;
}

function setup(options: Partial<PartitionSenderOptions> = {}) {
  const clock = new FakeClock(0);
  const calls: Call[] = [];
  const state = { route: { address: 'a:1', leaderEpoch: 1 } as PartitionRoute, refresh: Promise.resolve() };
  const sender = new PartitionSender({
    topic: 't',
    partition: 0,
    idempotent: true,
    producerId: 'p1',
    maxInFlight: 3,
    maxBatchRecords: 100,
    maxBatchBytes: 10_000,
    deliveryTimeoutMs: 60_000,
    retry: { initialDelayMs: 100, maxDelayMs: 100, jitter: 'none', maxAttempts: Number.POSITIVE_INFINITY },
    clock,
    random: seededRandom(1),
    logger: silentLogger,
    route: () => state.route,
    publish: (address, request, callback) => { calls.push({ address, request, callback }); },
    onRouteError: () => state.refresh,
    ...options,
  });
  let nextOffset = 0;
  const batch = (records: number): Outcome => {
    const outcome: Outcome = {};
    const b = new ProducerBatch('t', 0, clock.now(), () => undefined);
    const completion = new SendCompletion(
      records,
      false,
      (results) => { outcome.results = Array.isArray(results) ? results : [results]; },
      (error) => { outcome.error = error; },
      { completionDone: () => undefined },
    );
    for (let i = 0; i < records; i++) {
      b.add({ key: undefined, value: Buffer.from(`r${i}`), headers: {}, partition: 0, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }, 2, completion, i);
    }
    sender.enqueue(b);
    return outcome;
  };
  const call = (i: number): Call => {
    const c = calls[i];
    if (!c) throw new Error(`no call ${i} (have ${calls.length})`);
    return c;
  };
  const ack = (i: number): void => {
    const c = call(i);
    c.callback({ ok: true, response: { results: c.request.records.map(() => ({ partition: 0, offset: nextOffset++, duplicate: false })) } });
  };
  const fail = (i: number, error: BraidError, refused = true): void => { call(i).callback({ ok: false, error, refused }); };
  const sent = (): [string, number][] => calls.map((c) => [c.request.producerId, c.request.baseSequence]);
  return { clock, calls, state, sender, batch, call, ack, fail, sent };
}

const outOfOrder = (): InvalidArgumentError =>
  new InvalidArgumentError('out of order sequence', { metadata: { reason: 'OUT_OF_ORDER_SEQUENCE' } });

describe('PartitionSender', () => {
  it('pipelines up to maxInFlight batches with contiguous sequence numbers', () => {
    const s = setup();
    const outcomes = [s.batch(2), s.batch(2), s.batch(2), s.batch(2)];
    expect(s.sent()).toEqual([['p1', 0], ['p1', 2], ['p1', 4]]);
    expect(s.call(0).request).toMatchObject({ topic: 't', partition: 0, leaderEpoch: 1 });
    s.ack(0);
    expect(s.sent()).toEqual([['p1', 0], ['p1', 2], ['p1', 4], ['p1', 6]]);
    expect(outcomes[0]?.results).toEqual([{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }]);
  });

  it('merges batches queued behind a full window into one, within the batch limits', () => {
    const s = setup({ maxInFlight: 1, maxBatchRecords: 5 });
    s.batch(1);
    const queued = [s.batch(2), s.batch(2), s.batch(2)];
    s.ack(0);
    // 2 + 2 fit in 5 records; the third waits for the next slot.
    expect(s.calls.map((c) => c.request.records.length)).toEqual([1, 4]);
    expect(s.sent()).toEqual([['p1', 0], ['p1', 1]]);
    s.ack(1);
    expect(s.sent().at(-1)).toEqual(['p1', 5]);
    expect(queued[0]?.results).toEqual([{ partition: 0, offset: 1 }, { partition: 0, offset: 2 }]);
    expect(queued[1]?.results).toEqual([{ partition: 0, offset: 3 }, { partition: 0, offset: 4 }]);
  });

  it('after a retriable failure, holds everything until the window is back, then resends in order after the delay', async () => {
    const s = setup();
    const outcomes = [s.batch(2), s.batch(2), s.batch(2)];
    s.fail(0, new UnavailableError('busy'));
    s.batch(2);
    expect(s.calls).toHaveLength(3);
    s.fail(1, outOfOrder());
    s.fail(2, outOfOrder());
    expect(s.calls).toHaveLength(3);
    await s.clock.advance(99);
    expect(s.calls).toHaveLength(3);
    await s.clock.advance(1);
    // The same batches with the same numbers, in order; the new one waits for room.
    expect(s.sent().slice(3)).toEqual([['p1', 0], ['p1', 2], ['p1', 4]]);
    s.ack(3);
    expect(s.sent().slice(6)).toEqual([['p1', 6]]);
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);
  });

  it('fails a batch refused with a terminal error at once and renumbers the batches after it', () => {
    const s = setup();
    const poisoned = s.batch(2);
    const next = s.batch(3);
    s.fail(0, new InvalidArgumentError('bad record'));
    expect(poisoned.error?.code).toBe(Status.INVALID_ARGUMENT);
    s.fail(1, outOfOrder());
    // No delay for a terminal failure; the next batch takes over sequence 0.
    expect(s.sent()).toEqual([['p1', 0], ['p1', 2], ['p1', 0]]);
    s.ack(2);
    expect(next.results).toHaveLength(3);
    s.batch(1);
    expect(s.sent().at(-1)).toEqual(['p1', 3]);
  });

  it('continues under a new producer id after giving up on a batch whose fate is unknown', () => {
    const s = setup();
    const lost = s.batch(2);
    const refused = s.batch(2);
    const unknown = s.batch(2);
    // The first gets no answer and cannot be retried; the broker refuses
    // the second; the connection breaks before the third is answered.
    s.fail(0, new InternalError('no answer'), false);
    s.fail(1, outOfOrder());
    s.fail(2, new UnavailableError('connection lost'), false);
    expect(lost.error?.message).toBe('no answer');
    expect(unknown.error?.message).toMatch(/may or may not have been appended/);
    expect(refused.error).toBeUndefined();
    const [producerId, sequence] = s.sent().at(-1) ?? [];
    expect(producerId).not.toBe('p1');
    expect(sequence).toBe(0);
    s.ack(3);
    expect(refused.results).toHaveLength(2);
  });

  it('restarts the sequence under a new producer id, once, when the broker does not know it', async () => {
    const s = setup();
    s.batch(1);
    s.ack(0);
    const second = s.batch(1);
    s.fail(1, outOfOrder());
    await s.clock.advance(100);
    const [producerId, sequence] = s.sent().at(-1) ?? [];
    expect(producerId).not.toBe('p1');
    expect(sequence).toBe(0);
    s.fail(2, outOfOrder());
    expect(second.error?.code).toBe(Status.INVALID_ARGUMENT);
  });

  it('resends earlier batches with their own numbers when a later one was acknowledged', async () => {
    const s = setup();
    const first = s.batch(2);
    s.batch(2);
    s.fail(0, new UnavailableError('connection lost'), false);
    s.ack(1);
    await s.clock.advance(100);
    expect(s.sent()).toEqual([['p1', 0], ['p1', 2], ['p1', 0]]);
    s.ack(2);
    expect(first.results).toHaveLength(2);
  });

  it('waits for the metadata refresh after NOT_LEADER and never splits a window across leaders', async () => {
    const s = setup();
    let refreshed: () => void = () => undefined;
    s.state.refresh = new Promise((resolve) => { refreshed = resolve; });
    s.batch(1);
    s.fail(0, new NotLeaderError('t', 0, 'b:2'));
    await s.clock.advance(500);
    expect(s.calls).toHaveLength(1);
    s.state.route = { address: 'b:2', leaderEpoch: 2 };
    refreshed();
    await s.clock.advance(0);
    expect(s.call(1)).toMatchObject({ address: 'b:2', request: { leaderEpoch: 2, baseSequence: 0 } });

    s.batch(1);
    expect(s.calls).toHaveLength(3);
    s.state.route = { address: 'c:3', leaderEpoch: 3 };
    s.batch(1);
    expect(s.calls).toHaveLength(3);
    s.ack(1);
    s.ack(2);
    expect(s.call(3).address).toBe('c:3');
  });

  it('gives up on a batch once deliveryTimeoutMs has passed', async () => {
    const s = setup({ deliveryTimeoutMs: 250 });
    const outcome = s.batch(1);
    s.fail(0, new UnavailableError('down'));
    await s.clock.advance(100);
    s.fail(1, new UnavailableError('down'));
    await s.clock.advance(100);
    s.fail(2, new UnavailableError('still down'));
    expect(outcome.error?.message).toBe('still down');
    expect(s.calls).toHaveLength(3);
  });

  it('gives up with PARTITION_UNAVAILABLE, not the connection error, when the metadata reports the leader down', async () => {
    const s = setup({ deliveryTimeoutMs: 250 });
    const outcome = s.batch(1);
    s.state.route = { address: 'a:1', leaderEpoch: 1, available: false };
    s.fail(0, new UnavailableError('No connection established: connect ECONNREFUSED'), false);
    await s.clock.advance(100);
    s.fail(1, new UnavailableError('No connection established: connect ECONNREFUSED'), false);
    await s.clock.advance(100);
    s.fail(2, new UnavailableError('No connection established: connect ECONNREFUSED'), false);
    expect(outcome.error).toMatchObject({ code: Status.UNAVAILABLE, reason: 'PARTITION_UNAVAILABLE' });
    expect(outcome.error?.message).toContain('t/0 is unavailable');
  });
});
