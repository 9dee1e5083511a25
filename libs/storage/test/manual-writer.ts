/**
 * A `BatchWriter` whose batches complete when the test says so, for tests of
 * batch formation, ordering and failure in the group commit and the
 * subscription store.
 */
import type { WriteOp } from '../src/database.js';
import type { BatchWriter } from '../src/group-commit.js';

/** One write handed to a {@link ManualWriter}. */
export interface ManualBatch {
  ops: WriteOp[];
  sync: boolean;
  /** Completes the write, failing it with `error` if given. */
  finish: (error?: Error) => void;
}

/** A writer whose batches complete when the test says so. */
export class ManualWriter implements BatchWriter {
  readonly batches: ManualBatch[] = [];
  private inFlight = 0;
  /** Most writes ever outstanding at once. */
  maxInFlight = 0;

  write(ops: WriteOp[], sync: boolean): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      this.batches.push({
        ops,
        sync,
        finish: (error) => {
          this.inFlight--;
          if (error) reject(error);
          else resolve();
        },
      });
    });
  }
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Lets microtasks, I/O callbacks and the group commit's next batch run: it
 * forms batches in a setImmediate, which a submission made in a microtask
 * (as the subscription store's are) schedules behind one already waiting.
 */
export const tick = async (): Promise<void> => {
  await immediate();
  await immediate();
};
