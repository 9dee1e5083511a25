// What only the embedded store does; the behaviour every backend shares is
// asserted in metadata-store.contract.test.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

describe('EmbeddedMetadataStore', () => {
  it('creates a data directory that does not exist yet, with the database in <dir>/metadata', async () => {
    const dir = join(dataDir, 'nested', 'coordinator');
    const store = await EmbeddedMetadataStore.open(dir);
    try {
      await store.put('topics/a', Buffer.from('A'));
      expect(existsSync(join(dir, 'metadata'))).toBe(true);
    } finally {
      await store.close();
    }
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
