/**
 * Micro-benchmark: partitionForKey throughput for 10-byte keys over 8
 * partitions. Run with `npm run bench -w @braid/partitioning` (or
 * `npx tsx libs/partitioning/scripts/bench.ts`); prints one figure per run
 * and the median.
 */
import { partitionForKey } from '../src/index.js';

const KEY_BYTES = 10;
const PARTITIONS = 8;
const KEYS = 4096;
const OPS_PER_RUN = 5_000_000;
const RUNS = 5;

// Fixed pseudo-random keys (mulberry32, seed 1) so every run hashes the same input.
let state = 1;
function nextByte(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) & 0xff;
}
const keys = Array.from({ length: KEYS }, () => Uint8Array.from({ length: KEY_BYTES }, nextByte));

function run(ops: number): number {
  // The checksum keeps the JIT from dropping the calls as dead code.
  let checksum = 0;
  for (let i = 0; i < ops; i++) {
    checksum += partitionForKey(keys[i & (KEYS - 1)] ?? new Uint8Array(), PARTITIONS);
  }
  return checksum;
}

run(1_000_000); // warm-up: let the JIT optimise before timing
const rates: number[] = [];
let sink = 0;
for (let r = 0; r < RUNS; r++) {
  const start = process.hrtime.bigint();
  sink += run(OPS_PER_RUN);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rates.push(OPS_PER_RUN / seconds);
}
rates.sort((a, b) => a - b);
const format = (n: number): string => `${(n / 1e6).toFixed(2)}M ops/s`;
console.log(`partitionForKey, ${KEY_BYTES}-byte keys, ${PARTITIONS} partitions, ${RUNS} runs of ${OPS_PER_RUN}:`);
console.log(`  runs:   ${rates.map(format).join(', ')}`);
console.log(`  median: ${format(rates[Math.floor(RUNS / 2)] ?? 0)}`);
console.log(`  (checksum ${sink})`);
