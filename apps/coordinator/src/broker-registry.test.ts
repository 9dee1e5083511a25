import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { BraidError } from '@braid/core';
import { metadataKeys } from './metadata-keys.js';
import { putJson } from './metadata-store.js';
import { MemoryMetadataStore, buildCoordinatorParts } from './testing.js';
import type { CoordinatorParts } from './testing.js';

const built: CoordinatorParts[] = [];

async function parts(options: Parameters<typeof buildCoordinatorParts>[0] = {}): Promise<CoordinatorParts> {
  const p = await buildCoordinatorParts({ leaseTtlMs: 1000, checkIntervalMs: 100, ...options });
  built.push(p);
  return p;
}

afterEach(async () => {
  for (const p of built.splice(0)) await p.brokers.stop();
});

function heartbeatError(p: CoordinatorParts, brokerId: string, leaseId: string): BraidError {
  try {
    p.brokers.heartbeat(brokerId, leaseId);
  } catch (error) {
    if (error instanceof BraidError) return error;
    throw error;
  }
  throw new Error('heartbeat succeeded');
}

describe('BrokerRegistry', () => {
  it('registers a broker with a lease that heartbeats keep alive', async () => {
    const p = await parts();
    const lease = await p.brokers.register('b1', '127.0.0.1:7401');
    expect(lease).toEqual({ leaseId: 'lease-1', leaseTtlMs: 1000, leaderEpoch: 1 });
    expect(p.brokers.get('b1')).toMatchObject({ address: '127.0.0.1:7401', live: true, registeredAtMs: p.clock.now(), leaseExpiresAtMs: p.clock.now() + 1000 });
    expect(p.store.json(metadataKeys.broker('b1'))).toEqual({ brokerId: 'b1', address: '127.0.0.1:7401', registeredAtMs: p.clock.now(), term: 1 });
    for (let i = 0; i < 10; i++) {
      await p.clock.advance(500);
      expect(p.brokers.heartbeat('b1', lease.leaseId)).toEqual(lease);
    }
    expect(p.brokers.liveBrokerIds()).toEqual(['b1']);
  });

  it('expires a lease that is not renewed: not live, heartbeat NOT_FOUND, one version bump', async () => {
    const p = await parts();
    const lease = await p.brokers.register('b1', '127.0.0.1:7401');
    await p.brokers.register('b2', '127.0.0.1:7402');
    const versions: number[] = [];
    p.changes.onChange((v) => versions.push(v));
    await p.clock.advance(500);
    p.brokers.heartbeat('b2', 'lease-2');
    await p.clock.advance(900); // b1 lapsed at 1000, b2 renewed until 1500
    expect(p.brokers.get('b1')).toMatchObject({ live: false, leaseId: undefined });
    expect(p.brokers.get('b2')?.live).toBe(true);
    expect(p.brokers.liveBrokerIds()).toEqual(['b2']);
    expect(versions).toHaveLength(1);
    const error = heartbeatError(p, 'b1', lease.leaseId);
    expect(error.code).toBe(Status.NOT_FOUND);
    expect(error.message).toContain('register again');
    expect(p.logger.entries.some((e) => e.level === 'warn' && e.fields['brokerId'] === 'b1')).toBe(true);
  });

  it('refuses a heartbeat past the deadline even before the expiry check runs', async () => {
    const p = await parts({ checkIntervalMs: 60_000 });
    const lease = await p.brokers.register('b1', '127.0.0.1:7401');
    await p.clock.advance(1000);
    expect(p.brokers.get('b1')?.live).toBe(true); // not checked yet
    expect(heartbeatError(p, 'b1', lease.leaseId).code).toBe(Status.NOT_FOUND);
    expect(p.brokers.liveBrokerIds()).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown broker or lease', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    expect(heartbeatError(p, 'nobody', 'lease-1').code).toBe(Status.NOT_FOUND);
    expect(heartbeatError(p, 'b1', 'not-my-lease').code).toBe(Status.NOT_FOUND);
  });

  it('lets a live broker register again from the same address; only the new lease works', async () => {
    const p = await parts();
    const old = await p.brokers.register('b1', '127.0.0.1:7401');
    const renewed = await p.brokers.register('b1', '127.0.0.1:7401');
    expect(renewed.leaseId).not.toBe(old.leaseId);
    expect(heartbeatError(p, 'b1', old.leaseId).code).toBe(Status.NOT_FOUND);
    expect(p.brokers.heartbeat('b1', renewed.leaseId).leaseTtlMs).toBe(1000);
  });

  it('refuses another address while the lease is live, and takes it once the lease lapsed', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    await p.clock.advance(300);
    const refused = p.brokers.register('b1', '127.0.0.1:7999');
    await expect(refused).rejects.toMatchObject({ code: Status.ALREADY_EXISTS, retryAfterMs: 700 });
    await expect(refused).rejects.toThrow('broker "b1" is live at 127.0.0.1:7401');
    await p.clock.advance(700);
    await p.brokers.register('b1', '127.0.0.1:7999');
    expect(p.brokers.get('b1')).toMatchObject({ address: '127.0.0.1:7999', live: true });
    expect(p.store.json(metadataKeys.broker('b1'))).toMatchObject({ address: '127.0.0.1:7999' });
  });

  it.each([
    ['', '127.0.0.1:1', 'broker_id'],
    ['has space', '127.0.0.1:1', 'broker_id'],
    ['b'.repeat(250), '127.0.0.1:1', 'broker_id'],
    ['b1', '', 'address'],
    ['b1', '127.0.0.1', 'address'],
    ['b1', '127.0.0.1:0', 'address'],
    ['b1', '127.0.0.1:65536', 'address'],
    ['b1', 'http://x:1', 'address'],
  ])('rejects broker id %j at %j with INVALID_ARGUMENT naming %s', async (id, address, field) => {
    const p = await parts();
    await expect(p.brokers.register(id, address)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, metadata: { field } });
  });

  it('accepts host names and bracketed IPv6 addresses', async () => {
    const p = await parts();
    await p.brokers.register('b1', 'broker-1.example.com:7401');
    await p.brokers.register('b2', '[::1]:7401');
    expect(p.brokers.liveBrokerIds()).toEqual(['b1', 'b2']);
  });

  it('remembers registrations across a restart, none of them live until they register again', async () => {
    const first = await parts();
    await first.brokers.register('b2', '127.0.0.1:7402');
    await first.brokers.register('b1', '127.0.0.1:7401');
    await first.brokers.stop();
    const restarted = await parts({ store: first.store, clock: first.clock });
    expect(restarted.brokers.list()).toMatchObject([
      { brokerId: 'b1', address: '127.0.0.1:7401', live: false, leaseExpiresAtMs: 0 },
      { brokerId: 'b2', address: '127.0.0.1:7402', live: false, leaseExpiresAtMs: 0 },
    ]);
    expect(heartbeatError(restarted, 'b1', 'lease-2').code).toBe(Status.NOT_FOUND);
    // Not live, so another address is fine.
    await restarted.brokers.register('b1', '127.0.0.1:8401');
    expect(restarted.brokers.liveBrokerIds()).toEqual(['b1']);
  });

  it('with persistLeases, a new leader restores stored leases for one TTL from its takeover, and expired ones stay expired', async () => {
    const first = await parts({ persistLeases: true });
    const start = first.clock.now();
    const b1 = await first.brokers.register('b1', '127.0.0.1:7401');
    await first.brokers.register('b2', '127.0.0.1:7402');
    expect(first.store.json(metadataKeys.broker('b1'))).toMatchObject({ leaseId: b1.leaseId });
    await first.clock.advance(500);
    first.brokers.heartbeat('b1', b1.leaseId);
    await first.clock.advance(700); // b2 lapsed at 1000, b1 renewed until 1500
    expect(first.store.json(metadataKeys.broker('b2'))).toEqual({ brokerId: 'b2', address: '127.0.0.1:7402', registeredAtMs: start, term: 2 });
    await first.brokers.stop();

    // The takeover 1200 ms after the first registration: b1 keeps its lease until 1200 + 1000.
    const next = await parts({ store: first.store, clock: first.clock, persistLeases: true });
    expect(next.brokers.list()).toMatchObject([
      { brokerId: 'b1', live: true, leaseId: b1.leaseId, leaseExpiresAtMs: start + 2200 },
      { brokerId: 'b2', live: false },
    ]);
    await next.clock.advance(900);
    expect(next.brokers.heartbeat('b1', b1.leaseId)).toEqual(b1);
    expect(next.brokers.liveBrokerIds()).toEqual(['b1']);
    // A broker whose heartbeats never reach the new leader expires one TTL after the takeover.
    await next.clock.advance(1100);
    expect(next.brokers.liveBrokerIds()).toEqual([]);
    expect(next.store.json(metadataKeys.broker('b1'))).not.toHaveProperty('leaseId');
  });

  it('gives every registration a leader epoch above all earlier ones, kept across a coordinator restart', async () => {
    const first = await parts();
    expect((await first.brokers.register('b1', '127.0.0.1:7401')).leaderEpoch).toBe(1);
    expect((await first.brokers.register('b2', '127.0.0.1:7402')).leaderEpoch).toBe(2);
    // b1 restarted before its lease ran out: a new registration, a new epoch.
    const again = await first.brokers.register('b1', '127.0.0.1:7401');
    expect(again.leaderEpoch).toBe(3);
    expect(first.brokers.heartbeat('b1', again.leaseId).leaderEpoch).toBe(3);
    await first.brokers.stop();

    const restarted = await parts({ store: first.store, clock: first.clock });
    expect(restarted.brokers.list().map((b) => [b.brokerId, b.term])).toEqual([
      ['b1', 3],
      ['b2', 2],
    ]);
    expect((await restarted.brokers.register('b2', '127.0.0.1:7402')).leaderEpoch).toBe(4);
  });

  it('reads registrations stored before terms as term 1', async () => {
    const store = new MemoryMetadataStore();
    await store.commit([putJson(metadataKeys.broker('old'), { brokerId: 'old', address: '127.0.0.1:7409', registeredAtMs: 5 })]);
    const p = await parts({ store });
    expect(p.brokers.get('old')?.term).toBe(1);
    expect((await p.brokers.register('old', '127.0.0.1:7409')).leaderEpoch).toBe(2);
  });

  it('deregisters a live lease at once (one version bump, stored lease removed), and refuses an unknown or ended one', async () => {
    const p = await parts({ persistLeases: true });
    const lease = await p.brokers.register('b1', '127.0.0.1:7401');
    const versions: number[] = [];
    p.changes.onChange((v) => versions.push(v));
    await p.brokers.deregister('b1', lease.leaseId);
    expect(p.brokers.get('b1')).toMatchObject({ live: false, leaseId: undefined });
    expect(p.brokers.liveBrokerIds()).toEqual([]);
    expect(versions).toHaveLength(1);
    expect(p.store.json(metadataKeys.broker('b1'))).not.toHaveProperty('leaseId');
    await expect(p.brokers.deregister('b1', lease.leaseId)).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await expect(p.brokers.deregister('nobody', 'x')).rejects.toMatchObject({ code: Status.NOT_FOUND });
    // Not live any more, so it may register from another address at once.
    await p.brokers.register('b1', '127.0.0.1:8401');
    expect(p.brokers.get('b1')?.address).toBe('127.0.0.1:8401');
  });

  it('stops its expiry loop', async () => {
    const p = await parts();
    expect(p.clock.pendingSleeps).toBe(1);
    await p.brokers.stop();
    expect(p.clock.pendingSleeps).toBe(0);
  });
});
