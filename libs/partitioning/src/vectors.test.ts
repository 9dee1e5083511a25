import { readFileSync } from 'node:fs';
import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import {
  SLOT_HASH_SEED,
  jumpHash,
  partitionForKey,
  rendezvousOwner,
  rendezvousRank,
  rendezvousScore,
  slotForKey,
  xxh64,
} from './index.js';

// The cross-language vectors of proto/PARTITIONING.md: the code must
// reproduce the data file, and the document's tables must list exactly the
// data file's vectors, so code, data and document cannot drift apart.

/** Shape of proto/testdata/partitioning-vectors.json. */
interface VectorFile {
  partitionCounts: number[];
  keys: { description: string; keyHex: string; xxh64: string; partitions: number[] }[];
  jumpHash: { hash: string; buckets: number; bucket: number }[];
  rendezvous: {
    description: string;
    itemHex: string;
    members: string[];
    scores: string[];
    owner: string;
    ranking: string[];
  }[];
  slots: { seed: string; vectors: { keyHex: string; xxh64Seeded: string; slots: number; slot: number }[] };
}

// Read from disk rather than imported: the files belong to the contract in
// proto/, outside this package.
const vectors = JSON.parse(
  readFileSync(new URL('../../../proto/testdata/partitioning-vectors.json', import.meta.url), 'utf8'),
) as VectorFile;
const DOC = readFileSync(new URL('../../../proto/PARTITIONING.md', import.meta.url), 'utf8');

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex64 = (value: bigint): string => value.toString(16).padStart(16, '0');

/** The body rows of the table between `<!-- BEGIN name -->` and `<!-- END name -->`, as trimmed cells. */
function tableRows(name: string): string[][] {
  const begin = DOC.indexOf(`<!-- BEGIN ${name} -->`);
  const end = DOC.indexOf(`<!-- END ${name} -->`);
  expect(begin, `markers for ${name}`).toBeGreaterThanOrEqual(0);
  expect(end, `markers for ${name}`).toBeGreaterThan(begin);
  const lines = DOC.slice(begin, end)
    .split('\n')
    .filter((line) => line.startsWith('|'));
  // Skip the header row and the |---| separator.
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );
}

/** A table cell back to its value: strips the code span; `(empty)` is the empty byte string. */
function cell(text: string | undefined): string {
  if (text === '(empty)') return '';
  return (text ?? '').replace(/^`(.*)`$/, '$1');
}

describe('partitioning vectors (proto/testdata/partitioning-vectors.json)', () => {
  it('holds at least 20 key vectors covering the required kinds of key', () => {
    expect(vectors.keys.length).toBeGreaterThanOrEqual(20);
    const lengths = vectors.keys.map((v) => v.keyHex.length / 2);
    expect(lengths).toContain(0);
    expect(lengths).toContain(1);
    expect(Math.max(...lengths)).toBeGreaterThan(32);
    expect(vectors.keys.some((v) => /^(..)*00/.test(v.keyHex) && /^(..)*ff/.test(v.keyHex))).toBe(true);
    expect(vectors.partitionCounts).toEqual([1, 2, 7, 8, 64, 1000]);
  });

  it('key -> XXH64 -> partition vectors match the code', () => {
    for (const v of vectors.keys) {
      const key = fromHex(v.keyHex);
      expect(hex64(xxh64(key)), v.description).toBe(v.xxh64);
      expect(
        vectors.partitionCounts.map((n) => partitionForKey(key, n)),
        v.description,
      ).toEqual(v.partitions);
    }
  });

  it('key hashes match xxhash-wasm too, so the published vectors are plain XXH64', async () => {
    const reference = await xxhash();
    for (const v of vectors.keys) {
      expect(hex64(reference.h64Raw(fromHex(v.keyHex), 0n))).toBe(v.xxh64);
    }
  });

  it('jump hash vectors match the code', () => {
    for (const v of vectors.jumpHash) {
      expect(jumpHash(BigInt(`0x${v.hash}`), v.buckets)).toBe(v.bucket);
    }
  });

  it('rendezvous vectors match the code', () => {
    for (const v of vectors.rendezvous) {
      const item = fromHex(v.itemHex);
      expect(v.members.map((m) => hex64(rendezvousScore(item, m))), v.description).toEqual(v.scores);
      expect(rendezvousOwner(item, v.members), v.description).toBe(v.owner);
      expect(rendezvousRank(item, v.members), v.description).toEqual(v.ranking);
    }
  });

  it('slot vectors match the code', () => {
    expect(vectors.slots.seed).toBe(hex64(SLOT_HASH_SEED));
    for (const v of vectors.slots.vectors) {
      const key = fromHex(v.keyHex);
      expect(hex64(xxh64(key, SLOT_HASH_SEED))).toBe(v.xxh64Seeded);
      expect(slotForKey(key, v.slots)).toBe(v.slot);
    }
  });
});

describe('proto/PARTITIONING.md tables', () => {
  it('list exactly the key vectors of the data file', () => {
    expect(
      tableRows('key-vectors').map((row) => ({
        keyHex: cell(row[0]),
        xxh64: cell(row[2]),
        partitions: row.slice(3).map(Number),
      })),
    ).toEqual(vectors.keys.map(({ keyHex, xxh64: hash, partitions }) => ({ keyHex, xxh64: hash, partitions })));
  });

  it('list exactly the jump hash vectors of the data file', () => {
    expect(
      tableRows('jump-vectors').map((row) => ({
        hash: cell(row[0]),
        buckets: Number(row[1]),
        bucket: Number(row[2]),
      })),
    ).toEqual(vectors.jumpHash);
  });

  it('list exactly the rendezvous vectors of the data file', () => {
    expect(
      tableRows('rendezvous-vectors').map((row) => ({
        itemHex: cell(row[0]),
        members: JSON.parse(cell(row[2])) as unknown,
        owner: cell(row[3]),
        ranking: JSON.parse(cell(row[4])) as unknown,
      })),
    ).toEqual(vectors.rendezvous.map(({ itemHex, members, owner, ranking }) => ({ itemHex, members, owner, ranking })));
  });

  it('list exactly the slot vectors of the data file', () => {
    expect(
      tableRows('slot-vectors').map((row) => ({
        keyHex: cell(row[0]),
        xxh64Seeded: cell(row[1]),
        slots: Number(row[2]),
        slot: Number(row[3]),
      })),
    ).toEqual(vectors.slots.vectors);
  });
});
