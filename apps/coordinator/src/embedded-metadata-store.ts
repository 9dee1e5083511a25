/**
 * The embedded metadata store: one RocksDB database under the
 * coordinator's data directory, every write synced to disk before it is
 * acknowledged (metadata writes are rare and must survive power loss).
 * The default backend; nothing else needs to be installed for it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError } from '@braid/core';
import { Database } from '@braid/storage';
import type { WriteOp } from '@braid/storage';
import type { MetadataStore, StoreEntry, StoreOp } from './metadata-store.js';

/** Directory of the database inside the coordinator's data directory. */
export const embeddedStoreDirName = 'metadata';

// UTF-8 never produces the byte 0xFF, so `prefix ++ 0xFF` is above every key
// that starts with `prefix` and below every key after them.
const afterPrefix = Buffer.from([0xff]);

/** `MetadataStore` on RocksDB. */
export class EmbeddedMetadataStore implements MetadataStore {
  private constructor(private readonly db: Database) {}

  /**
   * Opens (creating if needed) the store in `<dataDir>/metadata`. Fails with
   * FAILED_PRECONDITION naming the directory when it cannot be opened, most
   * often because another coordinator holds it.
   */
  static async open(dataDir: string): Promise<EmbeddedMetadataStore> {
    const location = join(dataDir, embeddedStoreDirName);
    try {
      await mkdir(dataDir, { recursive: true });
      return new EmbeddedMetadataStore(await Database.open(location));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new FailedPreconditionError(
        `cannot open the metadata store in ${location} (is another coordinator using this data directory?): ${why}`,
        { cause: error, metadata: { location } },
      );
    }
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.db.get(Buffer.from(key, 'utf8'));
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    const start = Buffer.from(prefix, 'utf8');
    const range = prefix === '' ? {} : { gte: start, lt: Buffer.concat([start, afterPrefix]) };
    const entries: StoreEntry[] = [];
    for await (const [key, value] of this.db.entries(range)) entries.push({ key: key.toString('utf8'), value });
    return entries;
  }

  put(key: string, value: Buffer): Promise<void> {
    return this.commit([{ type: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.commit([{ type: 'del', key }]);
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    const batch: WriteOp[] = ops.map((op) =>
      op.type === 'put'
        ? { type: 'put', key: Buffer.from(op.key, 'utf8'), value: op.value }
        : { type: 'del', key: Buffer.from(op.key, 'utf8') },
    );
    return this.db.write(batch, true);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
