// The behaviour every `MetadataStore` backend promises (see
// metadata-store.ts), asserted against each real backend: RocksDB in a
// temporary directory and a real etcd process. Backend-specific behaviour
// (directory locking, etcd's limits and outages) is tested next to each
// backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd } from '@braid/testkit';
import type { EtcdServer } from '@braid/testkit';
import { EmbeddedMetadataStore } from './embedded-metadata-store.js';
import { EtcdMetadataStore } from './etcd-metadata-store.js';
import type { MetadataStore } from './metadata-store.js';

/** Fresh, empty storage, and a way to open it again. */
interface Storage {
  open(): Promise<MetadataStore>;
}

interface Backend {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** New empty storage; removed by `teardown` at the latest. */
  storage(): Storage;
}

const dirs: string[] = [];
const embedded: Backend = {
  name: 'EmbeddedMetadataStore (RocksDB)',
  setup: () => Promise.resolve(),
  teardown: () => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  },
  storage: () => {
    const dir = mkdtempSync(join(tmpdir(), 'braid-metadata-'));
    dirs.push(dir);
    return { open: () => EmbeddedMetadataStore.open(dir) };
  },
};

let etcdServer: EtcdServer | undefined;
let namespaces = 0;
const etcd: Backend = {
  name: 'EtcdMetadataStore (real etcd)',
  setup: async () => {
    etcdServer = await startEtcd();
  },
  teardown: async () => {
    await etcdServer?.stop();
  },
  // One etcd for the suite; each storage is its own namespace in it.
  storage: () => {
    const prefix = `/braid-contract-${++namespaces}/`;
    return {
      open: () => {
        if (!etcdServer) throw new Error('etcd is not running');
        return EtcdMetadataStore.open([etcdServer.endpoint], { prefix });
      },
    };
  },
};

const text = (value: Buffer | undefined): string | undefined => value?.toString('utf8');

describe.each([embedded, etcd])('$name', (backend) => {
  const open: MetadataStore[] = [];

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  async function fresh(): Promise<{ store: MetadataStore; reopen: () => Promise<MetadataStore> }> {
    const storage = backend.storage();
    const opened = async (): Promise<MetadataStore> => {
      const store = await storage.open();
      open.push(store);
      return store;
    };
    return { store: await opened(), reopen: opened };
  }

  it('reads back what it stored byte for byte, as Buffers; an absent key reads undefined', async () => {
    const { store } = await fresh();
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x00]);
    await store.put('blobs/binary', binary);
    await store.put('blobs/empty', Buffer.alloc(0));
    await store.put('blobs/overwritten', Buffer.from('first'));
    await store.put('blobs/overwritten', Buffer.from('second'));
    const read = await store.get('blobs/binary');
    expect(Buffer.isBuffer(read)).toBe(true);
    expect(read?.equals(binary)).toBe(true);
    expect((await store.get('blobs/empty'))?.length).toBe(0);
    expect(text(await store.get('blobs/overwritten'))).toBe('second');
    expect(await store.get('blobs/missing')).toBeUndefined();
    expect(await store.get('blobs/')).toBeUndefined();
    const listed = await store.list('blobs/');
    expect(listed.map((e) => e.key)).toEqual(['blobs/binary', 'blobs/empty', 'blobs/overwritten']);
    expect(listed.every((e) => Buffer.isBuffer(e.value))).toBe(true);
    expect(listed[0]?.value.equals(binary)).toBe(true);
  });

  it('lists exactly the keys under a prefix, in bytewise UTF-8 order', async () => {
    const { store } = await fresh();
    // U+FF5E sorts before U+1F600 in UTF-8 bytes (EF.. < F0..) but after
    // it in JavaScript's UTF-16 order (FF5E > D83D): the store must use bytes.
    const keys = ['topics/b', 'topics/\u{1F600}', 'topicsX', 'topics/a/b', 'topic', 'topics/\uFF5E', 'topics', 'topics/a', 'topics/\u00e9', 'u'];
    for (const key of keys) await store.put(key, Buffer.from(key));
    const under = await store.list('topics/');
    expect(under.map((e) => e.key)).toEqual(['topics/a', 'topics/a/b', 'topics/b', 'topics/\u00e9', 'topics/\uFF5E', 'topics/\u{1F600}']);
    expect(under.map((e) => text(e.value))).toEqual(under.map((e) => e.key));
    // A prefix without the separator also matches the key equal to it and its siblings.
    expect((await store.list('topics')).map((e) => e.key)).toEqual([
      'topics',
      'topics/a',
      'topics/a/b',
      'topics/b',
      'topics/\u00e9',
      'topics/\uFF5E',
      'topics/\u{1F600}',
      'topicsX',
    ]);
    const bytewise = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect((await store.list('')).map((e) => e.key)).toEqual(bytewise);
    expect(await store.list('nothing/')).toEqual([]);
    expect((await store.list('topics/\u00e9')).map((e) => e.key)).toEqual(['topics/\u00e9']);
  });

  it('commits puts and deletes together, the last write of a key winning', async () => {
    const { store } = await fresh();
    await store.put('keep', Buffer.from('kept'));
    await store.put('drop', Buffer.from('dropped'));
    await store.commit([
      { type: 'put', key: 'topics/a', value: Buffer.from('A1') },
      { type: 'put', key: 'gone', value: Buffer.from('x') },
      { type: 'del', key: 'gone' },
      { type: 'del', key: 'drop' },
      { type: 'put', key: 'topics/b', value: Buffer.from('B') },
      { type: 'del', key: 'never-existed' },
      { type: 'put', key: 'topics/a', value: Buffer.from('A2') },
      { type: 'del', key: 'back' },
      { type: 'put', key: 'back', value: Buffer.from('again') },
    ]);
    expect((await store.list('')).map((e) => [e.key, text(e.value)])).toEqual([
      ['back', 'again'],
      ['keep', 'kept'],
      ['topics/a', 'A2'],
      ['topics/b', 'B'],
    ]);
    // An empty commit changes nothing and does not fail.
    await store.commit([]);
    expect((await store.list('')).map((e) => e.key)).toEqual(['back', 'keep', 'topics/a', 'topics/b']);
  });

  it('deletes an absent key without error', async () => {
    const { store } = await fresh();
    await store.delete('missing');
    await store.commit([{ type: 'del', key: 'also-missing' }]);
    await store.put('present', Buffer.from('p'));
    await store.delete('present');
    await store.delete('present');
    expect(await store.get('present')).toBeUndefined();
    expect(await store.list('')).toEqual([]);
  });

  it('closes idempotently', async () => {
    const { store } = await fresh();
    await store.put('k', Buffer.from('v'));
    await store.close();
    await store.close();
  });

  it('keeps every acknowledged put, delete and commit across a close and reopen', async () => {
    const { store, reopen } = await fresh();
    await store.put('topics/b', Buffer.from('B'));
    await store.commit([
      { type: 'put', key: 'topics/a', value: Buffer.from('A') },
      { type: 'put', key: 'brokers/1', value: Buffer.from('1') },
      { type: 'put', key: 'counters/metadata-version', value: Buffer.from('7') },
    ]);
    await store.delete('topics/b');
    await store.close();

    const reopened = await reopen();
    expect((await reopened.list('')).map((e) => [e.key, text(e.value)])).toEqual([
      ['brokers/1', '1'],
      ['counters/metadata-version', '7'],
      ['topics/a', 'A'],
    ]);
    expect(text(await reopened.get('brokers/1'))).toBe('1');
    expect(await reopened.get('topics/b')).toBeUndefined();
  });
});
