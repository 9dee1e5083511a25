/**
 * Fakes for the coordinator's unit tests: an in-memory `MetadataStore`
 * that can be told to fail, and a tiny harness building the registries on
 * it with a `FakeClock`. Never used by production code.
 */
import { FakeClock, MemoryLogger } from '@braid/core/testing';
import { BrokerRegistry } from './broker-registry.js';
import { MetadataChanges } from './metadata-changes.js';
import type { MetadataStore, StoreEntry, StoreOp } from './metadata-store.js';
import { MetadataService } from './metadata-service.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { TopicRegistry } from './topic-registry.js';

/** A `MetadataStore` in a Map; `failNextCommit` makes the next commit reject. */
export class MemoryMetadataStore implements MetadataStore {
  readonly data = new Map<string, Buffer>();
  closed = false;
  commits = 0;
  private failure: Error | undefined;

  get(key: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.data.get(key));
  }

  list(prefix: string): Promise<StoreEntry[]> {
    const entries = [...this.data.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map(([key, value]) => ({ key, value }));
    return Promise.resolve(entries);
  }

  put(key: string, value: Buffer): Promise<void> {
    return this.commit([{ type: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.commit([{ type: 'del', key }]);
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      return Promise.reject(failure);
    }
    for (const op of ops) {
      if (op.type === 'put') this.data.set(op.key, Buffer.from(op.value));
      else this.data.delete(op.key);
    }
    this.commits++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Makes the next `commit` reject with `error` and write nothing. */
  failNextCommit(error: Error = new Error('disk full')): void {
    this.failure = error;
  }

  /** The JSON value at `key`, parsed, or undefined. */
  json(key: string): unknown {
    const value = this.data.get(key);
    return value === undefined ? undefined : JSON.parse(value.toString('utf8'));
  }
}

/** A coordinator's metadata parts, built on one store. */
export interface CoordinatorParts {
  store: MemoryMetadataStore;
  clock: FakeClock;
  logger: MemoryLogger;
  changes: MetadataChanges;
  brokers: BrokerRegistry;
  topics: TopicRegistry;
  subscriptions: SubscriptionRegistry;
  metadata: MetadataService;
}

/**
 * Builds (or, given the `store` of an earlier build, rebuilds as after a
 * restart) the registries and the metadata service with a `FakeClock`.
 * The broker registry's expiry loop is started; call `brokers.stop()` at
 * the end.
 */
export async function buildCoordinatorParts(
  options: { store?: MemoryMetadataStore; clock?: FakeClock; leaseTtlMs?: number; checkIntervalMs?: number; persistLeases?: boolean } = {},
): Promise<CoordinatorParts> {
  const store = options.store ?? new MemoryMetadataStore();
  const clock = options.clock ?? new FakeClock();
  const logger = new MemoryLogger();
  const changes = await MetadataChanges.open(store);
  let leases = 0;
  const brokers = await BrokerRegistry.load({
    store,
    changes,
    clock,
    logger,
    leaseTtlMs: options.leaseTtlMs ?? 10_000,
    checkIntervalMs: options.checkIntervalMs,
    persistLeases: options.persistLeases,
    newLeaseId: () => `lease-${++leases}`,
  });
  const topics = await TopicRegistry.load({ store, changes, brokers, clock, logger });
  const subscriptions = await SubscriptionRegistry.load({ store, changes, topics, clock, logger });
  const metadata = new MetadataService({ topics, subscriptions, brokers, changes, logger });
  brokers.start();
  return { store, clock, logger, changes, brokers, topics, subscriptions, metadata };
}
