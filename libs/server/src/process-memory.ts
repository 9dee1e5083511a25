/**
 * The memory of this process as `DescribeBroker` reports it, from
 * `process.memoryUsage()`: shared by the broker and the coordinator, which
 * both answer that RPC.
 */
import type { ProcessMemory } from '@braid/proto';

/** `process.memoryUsage()` now, as the contract's `ProcessMemory`. */
export function processMemory(): ProcessMemory {
  const usage = process.memoryUsage();
  return {
    rssBytes: usage.rss,
    heapTotalBytes: usage.heapTotal,
    heapUsedBytes: usage.heapUsed,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
  };
}
