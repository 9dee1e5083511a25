import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from './database.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-db-'));
  db = await Database.open(dir);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const k = (...bytes: number[]): Buffer => Buffer.from(bytes);

describe('Database', () => {
  it('writes batches atomically and reads them back', async () => {
    await db.write([{ type: 'put', key: k(1, 1), value: Buffer.from('a') }, { type: 'put', key: k(1, 2), value: Buffer.from('b') }], true);
    expect((await db.get(k(1, 1)))?.toString()).toBe('a');
    expect(await db.get(k(9))).toBeUndefined();
  });

  it('applies puts and deletes of one batch together, and refuses a write after close', async () => {
    await db.write([{ type: 'put', key: k(4, 1), value: Buffer.from('old') }], false);
    await db.write([{ type: 'del', key: k(4, 1) }, { type: 'put', key: k(4, 2), value: Buffer.alloc(300, 7) }], false);
    expect(await db.getMany([k(4, 1), k(4, 2)])).toEqual([undefined, Buffer.alloc(300, 7)]);
    await db.close();
    await expect(db.write([{ type: 'put', key: k(4, 3), value: Buffer.from('x') }], false)).rejects.toThrow(/not open/);
    db = await Database.open(dir);
    expect(await db.get(k(4, 3))).toBeUndefined();
  });

  it('reads many keys in one call, undefined where missing', async () => {
    await db.write([{ type: 'put', key: k(1, 1), value: Buffer.from('a') }, { type: 'put', key: k(1, 3), value: Buffer.from('c') }], false);
    const values = await db.getMany([k(1, 3), k(1, 2), k(1, 1)]);
    expect(values.map((v) => v?.toString())).toEqual(['c', undefined, 'a']);
    expect(await db.getMany([])).toEqual([]);
  });

  it('iterates ranges bytewise, forward and reverse, and clears them', async () => {
    const ops = [3, 1, 2, 0xff].map((n) => ({ type: 'put' as const, key: k(2, n), value: Buffer.from([n]) }));
    await db.write([...ops, { type: 'put', key: k(3, 0), value: Buffer.from('x') }], false);
    const forward: number[] = [];
    for await (const [key] of db.entries({ gte: k(2), lt: k(3) })) forward.push(key[1] ?? -1);
    expect(forward).toEqual([1, 2, 3, 0xff]);
    expect((await db.first({ gte: k(2), lt: k(3), reverse: true }))?.[0]).toEqual(k(2, 0xff));
    await db.clear({ gte: k(2), lt: k(3) });
    expect(await db.first({ gte: k(2), lt: k(3) })).toBeUndefined();
    expect((await db.get(k(3, 0)))?.toString()).toBe('x');
  });

  it('scans a range in chunks, in key order, until the visitor stops or the limit is reached', async () => {
    const ops = Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: k(6, i >> 8, i & 255), value: Buffer.alloc(100, i & 255) }));
    await db.write([...ops, { type: 'put', key: k(7, 0), value: Buffer.from('outside') }], false);
    const scan = async (options: { highWaterMark?: number; limit?: number }, stopAfter = Number.POSITIVE_INFINITY): Promise<number[]> => {
      const seen: number[] = [];
      await db.scan({ gte: k(6), lt: k(7) }, options, (key, value) => {
        expect(value).toEqual(Buffer.alloc(100, key[2]));
        seen.push(((key[1] ?? 0) << 8) | (key[2] ?? 0));
        return seen.length < stopAfter;
      });
      return seen;
    };
    const all = Array.from({ length: 500 }, (_, i) => i);
    // 1 KiB per trip to the thread pool: ~8 entries per chunk, so many chunks.
    expect(await scan({ highWaterMark: 1024 })).toEqual(all);
    expect(await scan({})).toEqual(all);
    expect(await scan({ highWaterMark: 1024 }, 37)).toEqual(all.slice(0, 37));
    expect(await scan({ highWaterMark: 1024, limit: 120 })).toEqual(all.slice(0, 120));
    const none: Buffer[] = [];
    await db.scan({ gte: k(8), lt: k(9) }, {}, (key) => none.push(key) > 0);
    expect(none).toEqual([]);
    // A visitor that throws rejects the scan, and the iterator is released (close below succeeds).
    await expect(db.scan({ gte: k(6), lt: k(7) }, {}, () => { throw new RangeError('bad record'); })).rejects.toThrow('bad record');
  });

  it('keeps data across close and reopen', async () => {
    await db.write([{ type: 'put', key: k(5), value: Buffer.from('kept') }], true);
    await db.close();
    db = await Database.open(dir);
    expect((await db.get(k(5)))?.toString()).toBe('kept');
  });
});
