/**
 * Temporary directories for tests that open real RocksDB databases, removed
 * after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const created: string[] = [];

afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, deleted after the current test. */
export function tempDir(prefix = 'braid-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** `n` payloads of `size` bytes whose content names their index, e.g. `r7.........`. */
export function payloads(n: number, size = 32, tag = 'r'): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${i}`.padEnd(size, '.')));
}
