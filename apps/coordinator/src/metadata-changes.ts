/**
 * The one way cluster metadata changes. Every change (topic created or
 * deleted, broker registered or expired) runs here one at a time: its plan
 * checks the current state and names the store writes, the writes are
 * committed atomically together with the next metadata version, and only
 * then is the in-memory state updated and the change announced. So memory
 * never runs ahead of the disk, a failed write changes nothing, two
 * concurrent creates of one name cannot both succeed, and the version a
 * reader sees always matches the state it reads.
 */
import type { MetadataStore, StoreOp } from './metadata-store.js';
import { metadataKeys } from './metadata-keys.js';

/** What a change will do; returned by a plan. */
export interface PlannedChange<T> {
  /** Store writes (the version bump is added). */
  ops: StoreOp[];
  /** Updates the in-memory state once the writes are durable. Must not throw. */
  apply(): void;
  /** What `run` resolves with. */
  result: T;
  /**
   * True when the plan found nothing to change: nothing is written, the
   * version stays and `apply` is not called.
   */
  noop?: boolean;
}

/** Called with the new version after every change. */
export type ChangeListener = (version: number) => void;

/** Serialises metadata changes and numbers them; see the file comment. */
export class MetadataChanges {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<ChangeListener>();

  private constructor(
    private readonly store: MetadataStore,
    private current: number,
  ) {}

  /**
   * Loads the last version and starts one above it: a restarted
   * coordinator has forgotten every lease, which is itself a change that
   * brokers comparing versions must see.
   */
  static async open(store: MetadataStore): Promise<MetadataChanges> {
    const stored = await store.get(metadataKeys.metadataVersion);
    const last = stored === undefined ? 0 : Number(stored.toString('utf8'));
    if (!Number.isSafeInteger(last) || last < 0) {
      throw new Error(`metadata store holds a corrupt ${metadataKeys.metadataVersion}: ${JSON.stringify(stored?.toString('utf8'))}`);
    }
    const version = last + 1;
    await store.commit([versionOp(version)]);
    return new MetadataChanges(store, version);
  }

  /** The version of the current metadata; grows with every change. */
  get version(): number {
    return this.current;
  }

  /**
   * Runs `plan` after every earlier change has finished, commits its ops
   * with the next version, applies it and tells the listeners. A plan that
   * throws (validation, NOT_FOUND, ...) changes nothing and rejects with its
   * error; so does a failed commit.
   */
  run<T>(plan: () => PlannedChange<T>): Promise<T> {
    const next = this.tail.then(async () => {
      const change = plan();
      if (change.noop === true) return change.result;
      const version = this.current + 1;
      await this.store.commit([...change.ops, versionOp(version)]);
      change.apply();
      this.current = version;
      for (const listener of this.listeners) listener(version);
      return change.result;
    });
    // Later changes wait for this one whether it succeeds or not; its
    // outcome goes to its own caller through `next`.
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** Calls `listener` after every change until the returned function is called. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Number of registered listeners (watchers), for tests and metrics. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Resolves once the version is above `after` (at once if it already is)
   * or when `signal` aborts, whichever comes first; never rejects.
   */
  waitForChange(after: number, signal: AbortSignal): Promise<void> {
    if (this.current > after || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const unsubscribe = this.onChange((version) => {
        if (version > after) done();
      });
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves when every change started so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

function versionOp(version: number): StoreOp {
  return { type: 'put', key: metadataKeys.metadataVersion, value: Buffer.from(String(version), 'utf8') };
}
