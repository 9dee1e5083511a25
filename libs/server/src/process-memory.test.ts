import { describe, expect, it } from 'vitest';
import { processMemory } from './process-memory.js';

describe('processMemory', () => {
  it('reports this process: heap in use within the heap, everything within sane bounds', () => {
    const held = Buffer.alloc(8 * 1024 * 1024, 1);
    const memory = processMemory();
    expect(memory.rssBytes).toBeGreaterThan(0);
    expect(memory.heapUsedBytes).toBeGreaterThan(0);
    expect(memory.heapUsedBytes).toBeLessThanOrEqual(memory.heapTotalBytes);
    // The 8 MiB buffer lives outside the V8 heap, in array buffers (part of external).
    expect(memory.arrayBuffersBytes).toBeGreaterThanOrEqual(held.length);
    expect(memory.externalBytes).toBeGreaterThanOrEqual(memory.arrayBuffersBytes);
  });
});
