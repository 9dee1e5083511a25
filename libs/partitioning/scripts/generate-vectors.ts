/**
 * Generates the cross-language test vectors of proto/PARTITIONING.md:
 * writes proto/testdata/partitioning-vectors.json and rewrites the tables
 * between the `<!-- BEGIN name -->` / `<!-- END name -->` markers in the
 * markdown from it. `src/vectors.test.ts` checks every vector against the
 * code and that the markdown tables list exactly the JSON's vectors, so the
 * three cannot drift.
 *
 * Run after a deliberate change only (a changed vector is a breaking change
 * for every client): `npm run generate-vectors -w @braid/partitioning`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SLOT_HASH_SEED,
  jumpHash,
  keyItem,
  partitionForKey,
  partitionItem,
  rendezvousOwner,
  rendezvousRank,
  rendezvousScore,
  slotForKey,
  xxh64,
} from '../src/index.js';

const JSON_PATH = fileURLToPath(new URL('../../../proto/testdata/partitioning-vectors.json', import.meta.url));
const DOC_PATH = fileURLToPath(new URL('../../../proto/PARTITIONING.md', import.meta.url));

const PARTITION_COUNTS = [1, 2, 7, 8, 64, 1000];

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const bytes = (length: number, at: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => at(i) & 0xff);
const toHex = (data: Uint8Array): string => Buffer.from(data).toString('hex');
const hex64 = (value: bigint): string => value.toString(16).padStart(16, '0');

/** Keys covering every XXH64 code path: each tail length, one and more stripes. */
const KEYS: { description: string; key: Uint8Array }[] = [
  { description: 'empty key (0 bytes)', key: new Uint8Array(0) },
  { description: '1 byte 0x00', key: bytes(1, () => 0x00) },
  { description: '1 byte 0xff', key: bytes(1, () => 0xff) },
  { description: '1 byte 0x80', key: bytes(1, () => 0x80) },
  { description: 'ASCII "a"', key: utf8('a') },
  { description: 'ASCII "0"', key: utf8('0') },
  { description: 'ASCII "abc" (3 bytes)', key: utf8('abc') },
  { description: '4 bytes de ad be ef', key: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) },
  { description: 'ASCII "user-1"', key: utf8('user-1') },
  { description: 'ASCII "user-2"', key: utf8('user-2') },
  { description: 'ASCII "user-42"', key: utf8('user-42') },
  { description: '7 bytes 00..06', key: bytes(7, (i) => i) },
  { description: '8 bytes of 0x00', key: bytes(8, () => 0x00) },
  { description: '8 bytes of 0xff', key: bytes(8, () => 0xff) },
  { description: 'uint64 1, big-endian', key: bytes(8, (i) => (i === 7 ? 1 : 0)) },
  { description: 'ASCII "order-1001"', key: utf8('order-1001') },
  { description: '10 bytes 00 ff 00 ff ...', key: bytes(10, (i) => (i % 2 === 0 ? 0x00 : 0xff)) },
  { description: 'binary "user" 00 ff "1"', key: Uint8Array.of(0x75, 0x73, 0x65, 0x72, 0x00, 0xff, 0x31) },
  { description: '15 bytes 00..0e', key: bytes(15, (i) => i) },
  { description: 'UUID 123e4567-... as 16 raw bytes', key: Uint8Array.from(Buffer.from('123e4567e89b12d3a456426614174000', 'hex')) },
  { description: 'UTF-8 "ключ-🙂"', key: utf8('ключ-🙂') },
  { description: 'ASCII "tenant-7:device-12345"', key: utf8('tenant-7:device-12345') },
  { description: '31 bytes 00..1e', key: bytes(31, (i) => i) },
  { description: '32 bytes 00..1f (one stripe)', key: bytes(32, (i) => i) },
  { description: '33 bytes 00..20', key: bytes(33, (i) => i) },
  { description: 'UUID string (36 bytes)', key: utf8('123e4567-e89b-12d3-a456-426614174000') },
  { description: 'ASCII "The quick brown fox jumps over the lazy dog"', key: utf8('The quick brown fox jumps over the lazy dog') },
  { description: '64 bytes 00..3f (two stripes)', key: bytes(64, (i) => i) },
  { description: '100 bytes (37 * i + 11) mod 256', key: bytes(100, (i) => 37 * i + 11) },
];

const JUMP_CASES: [hash: bigint, buckets: number][] = [
  // From the Go port of the paper's code (github.com/dgryski/go-jump).
  [1n, 1],
  [42n, 57],
  [0xdead10ccn, 1],
  [0xdead10ccn, 666],
  [256n, 1024],
  // Edges: zero and all-ones hashes, the largest bucket count.
  [0n, 2_147_483_647],
  [0xffff_ffff_ffff_ffffn, 1000],
  [0x0123_4567_89ab_cdefn, 100_000],
  // Constructed so that an iteration hits (b + 1) * 2^31 / x = 64 exactly:
  // the paper's two-rounding double expression gives 63 here, Guava's
  // `(b + 1) / (x / 2^31)` gives 48. Catches "equivalent" rewrites.
  [0x85f6_aa69_2c22_8cddn, 64],
  [0x85f6_aa69_2c22_8cddn, 1000],
];

const RENDEZVOUS_CASES: { description: string; item: Uint8Array; members: string[] }[] = [
  ...[0, 1, 2, 3].map((partition) => ({
    description: `partitionItem("orders", ${partition}) over 3 brokers`,
    item: partitionItem('orders', partition),
    members: ['broker-1', 'broker-2', 'broker-3'],
  })),
  {
    description: 'partitionItem("payments.eu", 11) over 5 members',
    item: partitionItem('payments.eu', 11),
    members: ['member-a', 'member-b', 'member-c', 'member-d', 'member-e'],
  },
  {
    description: 'keyItem(utf8 "user-1") over 4 members',
    item: keyItem(utf8('user-1')),
    members: ['member-a', 'member-b', 'member-c', 'member-d'],
  },
  {
    description: 'keyItem(empty key) over 3 members',
    item: keyItem(new Uint8Array(0)),
    members: ['member-a', 'member-b', 'member-c'],
  },
  {
    description: 'partitionItem("orders", 0) over 1 broker',
    item: partitionItem('orders', 0),
    members: ['broker-1'],
  },
  {
    description: 'partitionItem("orders", 5) over non-ASCII member ids',
    item: partitionItem('orders', 5),
    members: ['zoë', 'émile', 'björn', '🙂-1'],
  },
];

const SLOT_CASES: [key: Uint8Array, slots: number][] = [
  [utf8('user-1'), 4],
  [utf8('user-1'), 16],
  [utf8('user-2'), 16],
  [new Uint8Array(0), 8],
  [utf8('123e4567-e89b-12d3-a456-426614174000'), 10],
];

const vectors = {
  comment:
    'Generated by libs/partitioning/scripts/generate-vectors.ts; specified in proto/PARTITIONING.md. ' +
    'Hashes are 16 lowercase hex digits; keys and items are hex bytes.',
  partitionCounts: PARTITION_COUNTS,
  keys: KEYS.map(({ description, key }) => ({
    description,
    keyHex: toHex(key),
    xxh64: hex64(xxh64(key)),
    partitions: PARTITION_COUNTS.map((count) => partitionForKey(key, count)),
  })),
  jumpHash: JUMP_CASES.map(([hash, buckets]) => ({ hash: hex64(hash), buckets, bucket: jumpHash(hash, buckets) })),
  rendezvous: RENDEZVOUS_CASES.map(({ description, item, members }) => ({
    description,
    itemHex: toHex(item),
    members,
    scores: members.map((member) => hex64(rendezvousScore(item, member))),
    owner: rendezvousOwner(item, members),
    ranking: rendezvousRank(item, members),
  })),
  slots: {
    seed: hex64(SLOT_HASH_SEED),
    vectors: SLOT_CASES.map(([key, slots]) => ({
      keyHex: toHex(key),
      xxh64Seeded: hex64(xxh64(key, SLOT_HASH_SEED)),
      slots,
      slot: slotForKey(key, slots),
    })),
  },
};

const code = (text: string): string => `\`${text}\``;
const hexCell = (hex: string): string => (hex === '' ? '(empty)' : code(hex));

const tables: Record<string, string[]> = {
  'key-vectors': [
    `| key (hex) | key | XXH64 | ${PARTITION_COUNTS.map((n) => `P=${n}`).join(' | ')} |`,
    `|---|---|---|${PARTITION_COUNTS.map(() => '--:').join('|')}|`,
    ...vectors.keys.map(
      (v) => `| ${hexCell(v.keyHex)} | ${v.description} | ${code(v.xxh64)} | ${v.partitions.join(' | ')} |`,
    ),
  ],
  'jump-vectors': [
    '| hash (hex) | buckets | bucket |',
    '|---|--:|--:|',
    ...vectors.jumpHash.map((v) => `| ${code(v.hash)} | ${v.buckets} | ${v.bucket} |`),
  ],
  'rendezvous-vectors': [
    '| item (hex) | item | members | owner | ranking |',
    '|---|---|---|---|---|',
    ...vectors.rendezvous.map(
      (v) =>
        `| ${hexCell(v.itemHex)} | ${v.description} | ${code(JSON.stringify(v.members))} | ` +
        `${code(v.owner ?? '')} | ${code(JSON.stringify(v.ranking))} |`,
    ),
  ],
  'slot-vectors': [
    `| key (hex) | XXH64, seed ${vectors.slots.seed} | slots | slot |`,
    '|---|---|--:|--:|',
    ...vectors.slots.vectors.map(
      (v) => `| ${hexCell(v.keyHex)} | ${code(v.xxh64Seeded)} | ${v.slots} | ${String(v.slot)} |`,
    ),
  ],
};

/**
 * Pretty JSON with arrays of numbers and strings on one line, so a vector
 * reads as one row. JSON strings cannot hold raw newlines, so splitting the
 * pretty-printed array on ",\n" is safe.
 */
function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_, inner: string) =>
    `[${inner.split(/,\n\s*/).join(', ')}]`,
  );
}

writeFileSync(JSON_PATH, `${formatJson(vectors)}\n`);

let doc = readFileSync(DOC_PATH, 'utf8');
for (const [name, lines] of Object.entries(tables)) {
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${DOC_PATH}: missing ${begin} ... ${end}`);
  doc = `${doc.slice(0, from + begin.length)}\n${lines.join('\n')}\n${doc.slice(to)}`;
}
writeFileSync(DOC_PATH, doc);
console.log(`wrote ${JSON_PATH} and the tables of ${DOC_PATH}`);
