import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedMetadataStore } from './embedded-metadata-store.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-metadata-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const text = (value: Buffer | undefined): string | undefined => value?.toString('utf8');

describe('EmbeddedMetadataStore', () => {
  it('puts, gets, deletes, lists by prefix in key order, and survives a reopen', async () => {
    // A data directory that does not exist yet is created.
    const dir = join(dataDir, 'nested', 'coordinator');
    const store = await EmbeddedMetadataStore.open(dir);
    await store.put('topics/b', Buffer.from('B'));
    await store.commit([
      { type: 'put', key: 'topics/a', value: Buffer.from('A') },
      { type: 'put', key: 'topicsX', value: Buffer.from('not under topics/') },
      { type: 'put', key: 'brokers/1', value: Buffer.from('1') },
      { type: 'put', key: 'gone', value: Buffer.from('x') },
      { type: 'del', key: 'gone' },
    ]);
    expect(text(await store.get('topics/a'))).toBe('A');
    expect(await store.get('gone')).toBeUndefined();
    expect((await store.list('topics/')).map((e) => [e.key, text(e.value)])).toEqual([
      ['topics/a', 'A'],
      ['topics/b', 'B'],
    ]);
    expect((await store.list('')).map((e) => e.key)).toEqual(['brokers/1', 'topics/a', 'topics/b', 'topicsX']);
    await store.delete('topics/b');
    await store.close();
    await store.close(); // idempotent

    const reopened = await EmbeddedMetadataStore.open(dir);
    expect((await reopened.list('topics/')).map((e) => e.key)).toEqual(['topics/a']);
    expect(text(await reopened.get('brokers/1'))).toBe('1');
    await reopened.close();
  });

  it('refuses a data directory another store holds open, naming it', async () => {
    const store = await EmbeddedMetadataStore.open(dataDir);
    try {
      const second = EmbeddedMetadataStore.open(dataDir);
      await expect(second).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
      await expect(second).rejects.toThrow(/another coordinator/);
      await expect(second).rejects.toThrow(join(dataDir, 'metadata'));
    } finally {
      await store.close();
    }
  });
});
