import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { CreditGrantor } from '@braid/flow';
import type { CreditGrant } from '@braid/flow';
import { CreditBatcher } from './credit-batcher.js';

function batcher(batchRecords = 5, batchBytes = 500) {
  const clock = new FakeClock();
  const sent: CreditGrant[] = [];
  const credit = new CreditBatcher({ batchRecords, batchBytes, lingerMs: 20, clock, send: (grant) => sent.push(grant) });
  return { clock, sent, credit };
}

describe('CreditBatcher', () => {
  it('gathers top-ups and sends them as one request once they reach the batch size', () => {
    const { sent, credit } = batcher();
    for (let i = 0; i < 4; i++) credit.add({ records: 1, bytes: 10 });
    expect(sent).toEqual([]);
    credit.add({ records: 1, bytes: 10 });
    expect(sent).toEqual([{ records: 5, bytes: 50 }]);
    expect(credit.pending).toEqual({ records: 0, bytes: 0 });
  });

  it('sends on bytes alone once they reach the byte batch', () => {
    const { sent, credit } = batcher(100, 500);
    credit.add({ records: 1, bytes: 600 });
    expect(sent).toEqual([{ records: 1, bytes: 600 }]);
  });

  it('sends a small top-up after the linger time', async () => {
    const { clock, sent, credit } = batcher();
    credit.add({ records: 2, bytes: 20 });
    await clock.advance(19);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([{ records: 2, bytes: 20 }]);
  });

  it('sends at once when flushed, and nothing when nothing is gathered', () => {
    const { sent, credit } = batcher();
    credit.add({ records: 1, bytes: 10 });
    credit.flush();
    credit.flush();
    credit.add({ records: 1, bytes: 10 });
    credit.flush();
    expect(sent).toEqual([
      { records: 1, bytes: 10 },
      { records: 1, bytes: 10 },
    ]);
  });

  it('discard() forgets gathered credit', async () => {
    const { clock, sent, credit } = batcher();
    credit.add({ records: 3, bytes: 30 });
    credit.discard();
    await clock.advance(100);
    expect(sent).toEqual([]);
  });

  it('with a CreditGrantor at threshold 1, never lets the broker hold more than the prefetch and never stalls a holder', () => {
    // A member with prefetch 10 that keeps 8 records unsettled while it waits
    // for the next one must still be sent credit for the other two.
    const grantor = new CreditGrantor({ prefetchRecords: 10, prefetchBytes: Number.POSITIVE_INFINITY, topUpThreshold: 1 });
    const { sent, credit } = batcher(5, Number.POSITIVE_INFINITY);
    let brokerCredit = grantor.open().records;
    let held = 0;
    const deliver = (n: number) => {
      for (let i = 0; i < n; i++) grantor.onDelivered(0);
      brokerCredit -= n;
      held += n;
    };
    deliver(10);
    for (let i = 0; i < 2; i++) {
      const grant = grantor.onSettled(0);
      held -= 1;
      if (grant) credit.add(grant);
    }
    expect(sent).toEqual([]);
    credit.flush(); // the application waits for its ninth record
    brokerCredit += sent.reduce((sum, g) => sum + g.records, 0);
    expect(brokerCredit).toBe(2);
    expect(brokerCredit + held).toBeLessThanOrEqual(10);
  });
});
