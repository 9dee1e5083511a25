import { describe, expect, it } from 'vitest';
import { SubscriptionMode } from '@braid/proto';
import { ownership } from './ownership.js';

const members = ['m1', 'm2', 'm3'];

describe('ownership', () => {
  it('PARTITIONED: each partition has one owner, and adding a member moves only partitions to it', () => {
    const before = ownership(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 'orders', members);
    const after = ownership(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 'orders', [...members, 'm4']);
    let moved = 0;
    for (let p = 0; p < 120; p++) {
      const a = before.ownerOf(p, undefined, 0);
      const b = after.ownerOf(p, undefined, 0);
      expect(members).toContain(a);
      // The owner does not depend on key or offset.
      expect(before.ownerOf(p, Buffer.from('k'), 99)).toBe(a);
      if (a !== b) {
        moved++;
        expect(b).toBe('m4');
      }
    }
    expect(moved).toBeGreaterThan(15);
    expect(moved).toBeLessThan(45);
    expect(before.perPartition).toBe(true);
  });

  it('KEY_SHARED: a key has one owner on every partition, keys spread over members', () => {
    const rule = ownership(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, 'orders', members);
    const counts = new Map<string, number>();
    for (let k = 0; k < 3000; k++) {
      const key = Buffer.from(`user-${k}`);
      const owner = rule.ownerOf(0, key, k) ?? 'none';
      expect(rule.ownerOf(5, key, k + 17)).toBe(owner);
      // Remembered owners (by key id) agree with hashing.
      expect(rule.ownerOf(1, key, k, key.toString('latin1'))).toBe(owner);
      expect(rule.ownerOf(2, key, k + 1, key.toString('latin1'))).toBe(owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const member of members) expect(counts.get(member)).toBeGreaterThan(800);
    // Keyless records still get exactly one owner each.
    expect(members).toContain(rule.ownerOf(2, undefined, 7));
  });

  it('SHARED: any member may take any record; no members means no owner', () => {
    expect(ownership(SubscriptionMode.SUBSCRIPTION_MODE_SHARED, 't', members).ownerOf(0, undefined, 0)).toBeUndefined();
    expect(ownership(SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 't', []).ownerOf(0, undefined, 0)).toBeUndefined();
  });
});
