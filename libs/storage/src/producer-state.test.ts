import { InvalidArgumentError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { OUT_OF_ORDER_SEQUENCE, ProducerState } from './producer-state.js';

const where = { topicId: 1, partition: 2, producerId: 'p' };

function stateWith(batches: [baseSequence: number, count: number, baseOffset: number][]): ProducerState {
  const state = new ProducerState();
  for (const [baseSequence, count, baseOffset] of batches) state.record({ baseSequence, count, baseOffset });
  return state;
}

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('ProducerState', () => {
  it('accepts any first sequence and then exactly the next one', () => {
    const state = new ProducerState();
    expect(state.check(42, 3, where)).toBeUndefined();
    state.record({ baseSequence: 42, count: 3, baseOffset: 100 });
    expect(state.nextSequence).toBe(45);
    expect(state.check(45, 1, where)).toBeUndefined();
  });

  it('recognises a retry of any of the last five batches', () => {
    const state = stateWith([[0, 2, 10], [2, 2, 12], [4, 2, 14], [6, 2, 16], [8, 2, 18], [10, 2, 20]]);
    expect(state.check(10, 2, where)).toEqual({ baseSequence: 10, count: 2, baseOffset: 20 });
    expect(state.check(2, 2, where)).toEqual({ baseSequence: 2, count: 2, baseOffset: 12 });
    // The sixth-newest batch is forgotten: its retry is out of order, not a duplicate.
    expect(errorOf(() => state.check(0, 2, where)).metadata['reason']).toBe(OUT_OF_ORDER_SEQUENCE);
  });

  it('rejects gaps and old sequences with expected and got in message and metadata', () => {
    const state = stateWith([[0, 5, 0]]);
    const gap = errorOf(() => state.check(7, 1, where));
    expect(gap.message).toMatch(/expected base sequence 5, got 7/);
    expect(gap.metadata).toMatchObject({ reason: OUT_OF_ORDER_SEQUENCE, expectedSequence: '5', gotSequence: '7', producerId: 'p' });
    // Same base as a remembered batch but another count is not that batch.
    expect(errorOf(() => state.check(0, 4, where)).metadata['expectedSequence']).toBe('5');
    expect(errorOf(() => state.check(3, 1, where)).message).toMatch(/got 3/);
  });

  it('survives encoding', () => {
    const state = stateWith([[2 ** 40, 3, 2 ** 45], [2 ** 40 + 3, 1, 2 ** 45 + 3]]);
    const decoded = ProducerState.decode(state.encode());
    expect(decoded.remembered).toEqual(state.remembered);
    expect(decoded.nextSequence).toBe(2 ** 40 + 4);
    expect(() => ProducerState.decode(Buffer.from([9, 0]))).toThrow(RangeError);
  });
});
