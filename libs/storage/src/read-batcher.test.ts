import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Database } from './database.js';
import { ReadBatcher } from './read-batcher.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-reads-'));
  db = await Database.open(dir);
  await db.write(['a', 'b', 'c'].map((v, i) => ({ type: 'put' as const, key: Buffer.from([1, i]), value: Buffer.from(v) })), false);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ReadBatcher', () => {
  it('answers the reads of one turn with one database call, each with its own values', async () => {
    const calls = vi.spyOn(db, 'getMany');
    const reads = new ReadBatcher(db);
    const [first, second, none] = await Promise.all([
      reads.getMany([Buffer.from([1, 2]), Buffer.from([1, 9])]),
      reads.getMany([Buffer.from([1, 0])]),
      reads.getMany([]),
    ]);
    expect(first.map((v) => v?.toString())).toEqual(['c', undefined]);
    expect(second.map((v) => v?.toString())).toEqual(['a']);
    expect(none).toEqual([]);
    expect(calls).toHaveBeenCalledTimes(1);
    // A later turn is a new call.
    expect((await reads.getMany([Buffer.from([1, 1])]))[0]?.toString()).toBe('b');
    expect(calls).toHaveBeenCalledTimes(2);
  });

  it('rejects every read of the turn when the database call fails', async () => {
    const reads = new ReadBatcher(db);
    await db.close();
    const results = await Promise.allSettled([reads.getMany([Buffer.from([1, 0])]), reads.getMany([Buffer.from([1, 1])])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    db = await Database.open(dir);
  });
});
