// The coordinators' election and the fencing of the leader's commits,
// against a real etcd: two candidates on one prefix, each with its own
// store (its own connection), as two coordinator processes would have.
import { status as Status } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@braid/core';
import { MemoryLogger } from '@braid/core/testing';
import { CoordinatorElection } from './coordinator-election.js';
import type { CoordinatorElectionOptions } from './coordinator-election.js';
import { EtcdMetadataStore } from './etcd-metadata-store.js';
import { useEtcd } from '../test/etcd-fixture.js';

let raw: Etcd3;
let prefixes = 0;
const etcd = useEtcd();

beforeAll(() => {
  raw = new Etcd3({ hosts: [etcd.server.endpoint] });
});

afterAll(() => {
  raw.close();
});

async function candidate(prefix: string, address: string, options: Partial<CoordinatorElectionOptions> = {}): Promise<{ store: EtcdMetadataStore; election: CoordinatorElection }> {
  const store = await EtcdMetadataStore.open([etcd.server.endpoint], { prefix });
  const election = CoordinatorElection.start({ store, address, leaseTtlSeconds: 2, clock: systemClock, logger: new MemoryLogger(), ...options });
  etcd.defer(async () => {
    await election.resign();
    await store.close();
  });
  return { store, election };
}

describe('CoordinatorElection', () => {
  it('elects one candidate; the other stands by naming it, and takes over when the leader resigns', async () => {
    const prefix = `/braid-election-test-${++prefixes}/`;
    const a = await candidate(prefix, 'a:7400');
    await a.election.elected;
    const b = await candidate(prefix, 'b:7400');
    await expect.poll(() => b.election.leaderAddress(), { timeout: 10_000, interval: 20 }).toBe('a:7400');
    expect(a.election.isLeader).toBe(true);
    expect(b.election.isLeader).toBe(false);
    // The election keys live under the store's prefix (b may observe a's
    // key a moment before its own campaign key is written).
    await expect.poll(async () => (await raw.getAll().prefix(`${prefix}election/coordinator/`).keys()).length, { timeout: 5_000, interval: 20 }).toBe(2);

    const started = Date.now();
    await a.election.resign();
    await b.election.elected;
    // Resigning revokes the lease: no wait for the TTL (2 s).
    expect(Date.now() - started).toBeLessThan(1500);
    expect(b.election.leaderAddress()).toBe('b:7400');
  });

  it('fences a deposed leader: once its lease is gone its commit fails with FAILED_PRECONDITION and writes nothing; it gives up', async () => {
    const prefix = `/braid-election-test-${++prefixes}/`;
    // The first leader never checks its key by itself: it is deposed without noticing.
    const a = await candidate(prefix, 'a:7400', { checkIntervalMs: 600_000 });
    await a.election.elected;
    await a.store.put('topics/before', Buffer.from('1'));
    const b = await candidate(prefix, 'b:7400');
    await expect.poll(() => b.election.leaderAddress(), { timeout: 10_000, interval: 20 }).toBe('a:7400');

    // Its lease is revoked behind its back (as if it had expired during a pause).
    const [leaderKey] = await raw.getAll().prefix(`${prefix}election/coordinator/`).sort('Create', 'Ascend').exec().then((r) => r.kvs);
    if (leaderKey === undefined) throw new Error('no election key');
    await raw.leaseClient.leaseRevoke({ ID: leaderKey.lease });
    await b.election.elected;

    const refused = await a.store.commit([{ type: 'put', key: 'topics/after', value: Buffer.from('stale') }]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'FAILED_PRECONDITION' });
    expect((refused as Error).message).toContain('no longer the leader');
    expect(await b.store.get('topics/after')).toBeUndefined();
    expect(await b.store.get('topics/before')).toEqual(Buffer.from('1'));
    // The refused commit (or the observer seeing b lead) ends a's leadership.
    const lost = await a.election.lost;
    expect(lost.message).toMatch(/no longer the leader/);
    expect(a.election.isLeader).toBe(false);
    // The new leader writes.
    await b.store.put('topics/after', Buffer.from('fresh'));
    expect(await b.store.get('topics/after')).toEqual(Buffer.from('fresh'));
  });

  it('a leader whose election key disappears notices it by itself within a check interval', async () => {
    const prefix = `/braid-election-test-${++prefixes}/`;
    const a = await candidate(prefix, 'a:7400', { checkIntervalMs: 200 });
    await a.election.elected;
    const [leaderKey] = await raw.getAll().prefix(`${prefix}election/coordinator/`).exec().then((r) => r.kvs);
    if (leaderKey === undefined) throw new Error('no election key');
    const started = Date.now();
    await raw.leaseClient.leaseRevoke({ ID: leaderKey.lease });
    const lost = await a.election.lost;
    expect(lost.message).toMatch(/gone|another coordinator|election failed/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
