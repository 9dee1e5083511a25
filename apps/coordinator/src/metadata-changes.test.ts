import { describe, expect, it } from 'vitest';
import { AlreadyExistsError } from '@braid/core';
import { MetadataChanges } from './metadata-changes.js';
import { metadataKeys } from './metadata-keys.js';
import { putJson } from './metadata-store.js';
import { MemoryMetadataStore } from './testing.js';

const storedVersion = (store: MemoryMetadataStore): string | undefined => store.data.get(metadataKeys.metadataVersion)?.toString();

describe('MetadataChanges', () => {
  it('starts one version above the stored one, so a restart is a change', async () => {
    const store = new MemoryMetadataStore();
    expect((await MetadataChanges.open(store)).version).toBe(1);
    expect((await MetadataChanges.open(store)).version).toBe(2);
    expect(storedVersion(store)).toBe('2');
  });

  it('commits the ops with the next version, then applies and announces the change', async () => {
    const store = new MemoryMetadataStore();
    const changes = await MetadataChanges.open(store);
    const seen: number[] = [];
    changes.onChange((version) => seen.push(version));
    let applied = false;
    const result = await changes.run(() => ({
      ops: [putJson('k', { a: 1 })],
      apply: () => {
        // The write is durable before memory changes.
        expect(store.json('k')).toEqual({ a: 1 });
        applied = true;
      },
      result: 'done',
    }));
    expect(result).toBe('done');
    expect(applied).toBe(true);
    expect(changes.version).toBe(2);
    expect(storedVersion(store)).toBe('2');
    expect(seen).toEqual([2]);
  });

  it('changes nothing when the plan throws or the commit fails, and keeps going', async () => {
    const store = new MemoryMetadataStore();
    const changes = await MetadataChanges.open(store);
    const apply = (): void => {
      throw new Error('must not be applied');
    };
    await expect(changes.run(() => { throw new AlreadyExistsError('exists'); })).rejects.toThrow('exists');
    store.failNextCommit(new Error('disk full'));
    await expect(changes.run(() => ({ ops: [putJson('k', 1)], apply, result: undefined }))).rejects.toThrow('disk full');
    expect(changes.version).toBe(1);
    expect(store.data.has('k')).toBe(false);
    await changes.run(() => ({ ops: [putJson('k', 2)], apply: () => undefined, result: undefined }));
    expect(changes.version).toBe(2);
    expect(store.json('k')).toBe(2);
  });

  it('runs plans one at a time, each seeing the state the previous one applied', async () => {
    const changes = await MetadataChanges.open(new MemoryMetadataStore());
    const names = new Set<string>();
    const create = (name: string): Promise<string> =>
      changes.run(() => {
        if (names.has(name)) throw new AlreadyExistsError(`${name} exists`);
        return { ops: [putJson(name, 1)], apply: () => { names.add(name); }, result: name };
      });
    const outcomes = await Promise.allSettled([create('a'), create('a'), create('b')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(changes.version).toBe(3);
  });

  it('writes nothing and keeps the version for a no-op plan', async () => {
    const store = new MemoryMetadataStore();
    const changes = await MetadataChanges.open(store);
    const commits = store.commits;
    await changes.run(() => ({ ops: [], apply: () => { throw new Error('not applied'); }, result: undefined, noop: true }));
    expect(store.commits).toBe(commits);
    expect(changes.version).toBe(1);
  });

  it('waitForChange resolves on a later version or on abort, and leaves no listener behind', async () => {
    const changes = await MetadataChanges.open(new MemoryMetadataStore());
    const controller = new AbortController();
    await changes.waitForChange(0, controller.signal); // already above 0
    let woke = false;
    const waiting = changes.waitForChange(1, controller.signal).then(() => { woke = true; });
    await Promise.resolve();
    expect(woke).toBe(false);
    expect(changes.listenerCount).toBe(1);
    await changes.run(() => ({ ops: [], apply: () => undefined, result: undefined }));
    await waiting;
    expect(changes.listenerCount).toBe(0);
    const aborted = changes.waitForChange(changes.version, controller.signal);
    controller.abort();
    await aborted;
    expect(changes.listenerCount).toBe(0);
  });
});
