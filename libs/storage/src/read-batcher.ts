/**
 * Coalesces point reads: every `getMany` asked for during one turn of the
 * event loop goes to RocksDB as one `getMany`. Each call into the binding
 * takes a snapshot under the database mutex on the calling (main) thread,
 * which costs tens of microseconds while the group commit writes, so a
 * broker that reads one key per settled retry pays that per record; batched,
 * it pays it once per turn.
 */
import type { Database } from './database.js';

interface PendingRead {
  readonly keys: readonly Buffer[];
  resolve(values: (Buffer | undefined)[]): void;
  reject(error: unknown): void;
}

/** See the file comment. */
export class ReadBatcher {
  private pending: PendingRead[] = [];

  constructor(private readonly db: Database) {}

  /** The values of `keys` (undefined where missing), read together with the other reads of this turn. */
  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ keys, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => { this.flush(); });
    });
  }

  private flush(): void {
    const reads = this.pending;
    this.pending = [];
    this.db.getMany(reads.flatMap((read) => read.keys)).then(
      (values) => {
        let at = 0;
        for (const read of reads) {
          read.resolve(values.slice(at, at + read.keys.length));
          at += read.keys.length;
        }
      },
      (error: unknown) => {
        for (const read of reads) read.reject(error);
      },
    );
  }
}
