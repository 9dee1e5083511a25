// What only the etcd store does, against real etcd processes: the
// namespace, etcd's transaction limits, paging, and etcd being unreachable
// or restarted. The behaviour every backend shares is asserted in
// metadata-store.contract.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { freePort, startEtcd } from '@braid/testkit';
import { EtcdMetadataStore } from './etcd-metadata-store.js';
import type { EtcdMetadataStoreOptions } from './etcd-metadata-store.js';
import type { StoreOp } from './metadata-store.js';
import { useEtcd } from '../test/etcd-fixture.js';

let namespaces = 0;
const etcd = useEtcd();

/** A store on the shared etcd in a namespace of its own. */
async function openStore(options: EtcdMetadataStoreOptions = {}, endpoints = [etcd.server.endpoint]): Promise<EtcdMetadataStore> {
  const store = await EtcdMetadataStore.open(endpoints, { prefix: `/braid-etcd-test-${++namespaces}/`, ...options });
  etcd.defer(() => store.close());
  return store;
}

function puts(count: number, prefix = 'k/'): StoreOp[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'put', key: `${prefix}${String(i).padStart(3, '0')}`, value: Buffer.from(String(i)) }));
}

/** A TCP server that accepts connections and never answers: a hung or black-holed etcd. */
async function silentServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => { resolve(); });
      }),
  };
}

describe('EtcdMetadataStore', () => {
  it('keeps every key under its prefix in etcd, apart from other prefixes', async () => {
    const a = await openStore({ prefix: '/cluster-a/' });
    const b = await openStore({ prefix: '/cluster-ab/' });
    await a.put('topics/orders', Buffer.from('A'));
    await b.put('topics/orders', Buffer.from('B'));
    expect((await a.list('')).map((e) => [e.key, e.value.toString()])).toEqual([['topics/orders', 'A']]);
    expect((await b.list('')).map((e) => [e.key, e.value.toString()])).toEqual([['topics/orders', 'B']]);
    // What an operator sees with etcdctl: the prefix followed by the store's key.
    const raw = new Etcd3({ hosts: [etcd.server.endpoint] });
    try {
      expect(await raw.get('/cluster-a/topics/orders').string()).toBe('A');
      expect(await raw.getAll().prefix('/cluster-a/').keys()).toEqual(['/cluster-a/topics/orders']);
    } finally {
      raw.close();
    }
  });

  it('commits all or nothing: a change over etcd’s operation limit fails with FAILED_PRECONDITION and writes nothing', async () => {
    const store = await openStore();
    const tooMany = store.commit(puts(129));
    await expect(tooMany).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'FAILED_PRECONDITION', retriable: false });
    await expect(tooMany).rejects.toThrow(/129 writes exceeds etcd's limit on operations per transaction \(etcd's --max-txn-ops, 128 by default\); nothing was written/);
    expect(await store.list('')).toEqual([]);
    // The limit counts distinct keys (the last write of a key wins), and the store keeps working.
    await store.commit([...puts(128), ...puts(100)]);
    expect(await store.list('')).toHaveLength(128);
  });

  it('refuses a change over etcd’s request size limit with FAILED_PRECONDITION, and serves the next call at once', async () => {
    const store = await openStore();
    // Over etcd's 1.5 MiB request limit, and over its 2 MiB gRPC message limit.
    for (const bytes of [1_600_000, 3 * 1024 * 1024]) {
      const started = Date.now();
      const tooLarge = store.put('big', Buffer.alloc(bytes));
      await expect(tooLarge).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
      await expect(tooLarge).rejects.toThrow(/--max-request-bytes/);
      await store.put('small', Buffer.from('fine'));
      expect((await store.get('small'))?.toString()).toBe('fine');
      expect(Date.now() - started).toBeLessThan(2000);
    }
    expect(await store.get('big')).toBeUndefined();
  });

  it('lists a prefix larger than a page completely and in order', async () => {
    const store = await openStore({ listPageSize: 2 });
    await store.commit([...puts(7, 'topics/'), ...puts(3, 'topicsX/')]);
    expect((await store.list('topics/')).map((e) => e.key)).toEqual(puts(7, 'topics/').map((op) => op.key));
    expect(await store.list('')).toHaveLength(10);
  });

  it('rejects calls after close with FAILED_PRECONDITION', async () => {
    const store = await openStore();
    await store.close();
    await expect(store.get('k')).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(store.list('')).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(store.put('k', Buffer.from('v'))).rejects.toThrow(/is closed/);
  });

  it('refuses no endpoints and an empty prefix with INVALID_ARGUMENT', async () => {
    await expect(EtcdMetadataStore.open([])).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(EtcdMetadataStore.open([etcd.server.endpoint], { prefix: '' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('fails to open with UNAVAILABLE naming the endpoints within the dial timeout when nothing answers', async () => {
    const refused = `127.0.0.1:${await freePort()}`;
    const silent = await silentServer();
    etcd.defer(() => silent.close());
    for (const endpoints of [[refused], [silent.endpoint], [refused, silent.endpoint]]) {
      const started = Date.now();
      const open = EtcdMetadataStore.open(endpoints, { dialTimeoutMs: 400 });
      await expect(open).rejects.toMatchObject({ code: Status.UNAVAILABLE, reason: 'UNAVAILABLE', metadata: { endpoints: endpoints.join(',') } });
      await expect(open).rejects.toThrow(`cannot reach etcd at ${endpoints.join(',')} within 400 ms`);
      // It kept trying for the dial timeout, and no longer.
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('waits for an etcd that comes up within the dial timeout', async () => {
    const clientPort = await freePort();
    const opening = EtcdMetadataStore.open([`127.0.0.1:${clientPort}`], { dialTimeoutMs: 20_000 });
    const late = await startEtcd({ clientPort });
    etcd.defer(() => late.stop());
    const store = await opening;
    etcd.defer(() => store.close());
    await store.put('k', Buffer.from('v'));
    expect((await store.get('k'))?.toString()).toBe('v');
  });

  it('works through the endpoints that answer when others are down', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const store = await openStore({}, [down, etcd.server.endpoint, down.replace('127.0.0.1', 'localhost')]);
    // Hosts are picked at random: enough calls that each endpoint is tried first at some point.
    for (let i = 0; i < 20; i++) await store.put(`k/${i}`, Buffer.from(String(i)));
    expect(await store.list('k/')).toHaveLength(20);
  });

  it('answers UNAVAILABLE while etcd is down and recovers with every acknowledged write when it is back (kill -9)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'braid-etcd-restart-'));
    etcd.defer(() => { rmSync(dataDir, { recursive: true, force: true }); });
    const first = await startEtcd({ dataDir });
    etcd.defer(() => first.kill9());
    const store = await EtcdMetadataStore.open([first.endpoint], { requestTimeoutMs: 2000 });
    etcd.defer(() => store.close());
    await store.commit([{ type: 'put', key: 'topics/a', value: Buffer.from('A') }, { type: 'put', key: 'topics/b', value: Buffer.from('B') }]);
    await store.delete('topics/b');
    await first.kill9();

    const down = store.get('topics/a');
    await expect(down).rejects.toMatchObject({ code: Status.UNAVAILABLE, retriable: true });
    await expect(down).rejects.toThrow(`etcd at ${first.endpoint} is unavailable`);

    const second = await startEtcd({ dataDir, clientPort: first.clientPort });
    etcd.defer(() => second.stop());
    expect((await store.list('topics/')).map((e) => [e.key, e.value.toString()])).toEqual([['topics/a', 'A']]);
    await store.put('topics/c', Buffer.from('C'));
    expect((await store.get('topics/c'))?.toString()).toBe('C');
  });
});
