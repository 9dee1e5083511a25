/**
 * The etcd metadata store (`--etcd-endpoints`): every key under one
 * namespace prefix in an etcd cluster, so the metadata outlives any one
 * coordinator host and several coordinators can share it. Several
 * coordinators elect a leader through etcd (`coordinator-election.ts`, on
 * `election()` here); once elected, the leader `fence`s this store with its
 * election key, and from then on every `commit` is refused unless that key
 * still exists with the revision it won with (see there).
 *
 * Built on `etcd3` (Microsoft's client, on the workspace's @grpc/grpc-js).
 * etcd acknowledges a write once a quorum of members has it in their
 * fsynced write-ahead logs, so an acknowledged put, delete or commit
 * survives kill -9 of every member and the loss of any minority.
 *
 * One `commit` is one etcd transaction: all of its writes or none. etcd
 * bounds a transaction (`--max-txn-ops`, 128 operations by default) and a
 * request (`--max-request-bytes`, 1.5 MiB by default). A commit beyond
 * either fails whole with FAILED_PRECONDITION; it is never split, because a
 * crash between the parts would leave half a change behind. (Of today's
 * changes only deleting a topic that has more than about 125 subscriptions
 * gets there: one delete per subscription.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { handleWhen, isBrokenCircuitError, noop, retry } from 'cockatiel';
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
} from 'etcd3';
import type { Election, ICompare, IRequestOp } from 'etcd3';
import {
  BraidError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
} from '@braid/core';
import { etcdStoreDefaults } from './defaults.js';
import type { MetadataStore, StoreEntry, StoreOp } from './metadata-store.js';

/** Options of `EtcdMetadataStore.open`; defaults in `etcdStoreDefaults`. */
export interface EtcdMetadataStoreOptions {
  /** Namespace of every key (not empty). Default `/braid/`. */
  prefix?: string;
  /** How long `open` keeps trying to reach etcd before UNAVAILABLE (ms). Default 5000. */
  dialTimeoutMs?: number;
  /** Deadline of one etcd request (ms). Default 10000. */
  requestTimeoutMs?: number;
  /** Keys fetched per range request by `list`. Default 500. */
  listPageSize?: number;
}

// Range ends: etcd reads `[key, range_end)`, and a range_end of one zero
// byte means "to the end of the key space".
const toEndOfKeys = Buffer.from([0]);
const zeroByte = Buffer.from([0]);

/** The smallest key above every key that starts with `prefix` (etcd's `GetPrefixRangeEnd`). */
function prefixRangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i];
    if (byte !== undefined && byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return toEndOfKeys;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The election key a leader holds and the revision that created it; see `EtcdMetadataStore.fence`. */
interface Fence {
  key: Buffer;
  createRevision: string;
  onDeposed: (error: BraidError) => void;
}

/** `MetadataStore` on etcd v3; see the file comment. */
export class EtcdMetadataStore implements MetadataStore {
  private closed = false;
  private fencing: Fence | undefined;
  private readonly namespace: Buffer;
  /** The endpoints as one string, for messages and error metadata. */
  private readonly where: string;

  private constructor(
    private readonly client: Etcd3,
    endpoints: readonly string[],
    prefix: string,
    private readonly requestTimeoutMs: number,
    private readonly listPageSize: number,
  ) {
    this.namespace = Buffer.from(prefix, 'utf8');
    this.where = endpoints.join(',');
  }

  /**
   * Connects to etcd at `endpoints` (`host:port`) and keeps every key under
   * `options.prefix`. Keeps trying for `dialTimeoutMs` while etcd cannot be
   * reached (it may be starting too), then fails with UNAVAILABLE naming
   * the endpoints; INVALID_ARGUMENT for no endpoints or an empty prefix;
   * PERMISSION_DENIED / UNAUTHENTICATED when etcd refuses the client.
   */
  static async open(endpoints: readonly string[], options: EtcdMetadataStoreOptions = {}): Promise<EtcdMetadataStore> {
    const prefix = options.prefix ?? etcdStoreDefaults.prefix;
    const dialTimeoutMs = options.dialTimeoutMs ?? etcdStoreDefaults.dialTimeoutMs;
    const requestTimeoutMs = options.requestTimeoutMs ?? etcdStoreDefaults.requestTimeoutMs;
    const listPageSize = options.listPageSize ?? etcdStoreDefaults.listPageSize;
    if (endpoints.length === 0) throw new InvalidArgumentError('no etcd endpoints given');
    if (prefix === '') {
      throw new InvalidArgumentError("the etcd key prefix must not be empty: it keeps the coordinator's keys apart from everything else in etcd");
    }
    if (!Number.isSafeInteger(listPageSize) || listPageSize < 1) {
      throw new InvalidArgumentError(`listPageSize must be a positive integer (got ${listPageSize})`);
    }
    const client = new Etcd3({
      hosts: [...endpoints],
      // A page of `listPageSize` values can exceed grpc-js's 4 MiB default
      // (a 4096-partition placement is ~180 KB); the page size bounds it.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      // Every request gets its own deadline, so a hung etcd fails calls
      // instead of stalling every later metadata change behind them.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      faultHandling: {
        // etcd3's defaults retry every "recoverable" error three times at
        // once and then trip a 5 s circuit breaker per host: one oversized
        // request (RESOURCE_EXHAUSTED) then refused every call for 5 s, and
        // with one endpoint the breaker only delays recovery. Instead: no
        // breaker, and a call that finds an endpoint unreachable tries each
        // other endpoint once. Retrying is safe because a commit is
        // idempotent (unconditional puts and deletes) and callers run one
        // at a time (`MetadataChanges`).
        host: () => noop,
        global:
          endpoints.length > 1
            ? retry(
                handleWhen((error) => error instanceof GRPCUnavailableError),
                { maxAttempts: endpoints.length - 1 },
              )
            : noop,
      },
    });
    const store = new EtcdMetadataStore(client, endpoints, prefix, requestTimeoutMs, listPageSize);
    try {
      await store.waitUntilReachable(dialTimeoutMs);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.assertOpen();
    const response = await this.request('read', () => this.client.kv.range({ key: this.etcdKey(key) }));
    return response.kvs[0]?.value;
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    this.assertOpen();
    const start = this.etcdKey(prefix);
    const end = prefixRangeEnd(start);
    const entries: StoreEntry[] = [];
    let from = start;
    // Later pages read at the first page's revision: one consistent snapshot.
    let revision: string | undefined;
    for (;;) {
      const page = await this.request('list', () =>
        this.client.kv.range({ key: from, range_end: end, limit: this.listPageSize, ...(revision === undefined ? {} : { revision }) }),
      );
      revision ??= page.header.revision;
      // etcd returns a range in key order, bytewise: the order the interface promises.
      for (const { key, value } of page.kvs) entries.push({ key: this.storeKey(key), value });
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) return entries;
      from = Buffer.concat([last.key, zeroByte]);
    }
  }

  put(key: string, value: Buffer): Promise<void> {
    return this.commit([{ type: 'put', key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.commit([{ type: 'del', key }]);
  }

  async commit(ops: readonly StoreOp[]): Promise<void> {
    this.assertOpen();
    // The last write of a key wins, as in a RocksDB batch: etcd refuses a
    // transaction that names a key twice, and the outcome is the same.
    const latest = new Map<string, StoreOp>();
    for (const op of ops) {
      latest.delete(op.key);
      latest.set(op.key, op);
    }
    if (latest.size === 0) return;
    const success: IRequestOp[] = [...latest.values()].map((op) =>
      op.type === 'put'
        ? { request_put: { key: this.etcdKey(op.key), value: op.value } }
        : { request_delete_range: { key: this.etcdKey(op.key) } },
    );
    // Fenced (a leader): the writes apply only while the leader's election
    // key still exists with the revision it won with. A coordinator whose
    // lease expired without it noticing (a long pause, a partition) finds
    // its key gone or re-created by its successor's lease, so it cannot
    // overwrite the successor's metadata. (etcd's Go `concurrency.Election`
    // fences the same way: `Compare(CreateRevision(key), "=", rev)`.)
    const fence = this.fencing;
    const compare: ICompare[] = fence === undefined ? [] : [{ key: fence.key, target: 'Create', result: 'Equal', create_revision: fence.createRevision }];
    const response = await this.request('commit', () => this.client.kv.txn({ compare, success, failure: [] }), latest.size);
    if (!response.succeeded && fence !== undefined) {
      const error = new FailedPreconditionError(
        `this coordinator is no longer the leader: its election key ${fence.key.toString('utf8')} (created at revision ${fence.createRevision}) is gone from etcd at ${this.where}; nothing was written`,
        { metadata: { endpoints: this.where, electionKey: fence.key.toString('utf8'), writes: String(latest.size) } },
      );
      fence.onDeposed(error);
      throw error;
    }
  }

  /**
   * An etcd3 `Election` named `name` under this store's prefix (its keys are
   * `<prefix>election/<name>/<lease id>`), whose candidates hold etcd leases
   * of `ttlSeconds`. Shares this store's connection.
   */
  election(name: string, ttlSeconds: number): Election {
    this.assertOpen();
    return this.client.namespace(this.namespace).election(name, ttlSeconds);
  }

  /**
   * Fences every later commit with `electionKey` (a full etcd key): it
   * applies only while that key exists with `createRevision`, else fails
   * with FAILED_PRECONDITION, writes nothing and calls `onDeposed`.
   */
  fence(electionKey: string, createRevision: string, onDeposed: (error: BraidError) => void): void {
    this.fencing = { key: Buffer.from(electionKey, 'utf8'), createRevision, onDeposed };
  }

  /**
   * The create revision of `etcdKey` (a full etcd key, not under the
   * prefix), or undefined when it does not exist; a linearizable read that
   * fails after `timeoutMs`.
   */
  async createRevisionOf(etcdKey: string, timeoutMs: number = this.requestTimeoutMs): Promise<string | undefined> {
    this.assertOpen();
    const response = await this.request('read the election key', () =>
      this.client.kv.range({ key: Buffer.from(etcdKey, 'utf8'), keys_only: true }, { deadline: Date.now() + timeoutMs }),
    );
    return response.kvs[0]?.create_revision;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.client.close();
    }
    return Promise.resolve();
  }

  /** Retries a cheap linearizable read (it needs an etcd leader) until it answers or `dialTimeoutMs` passes. */
  private async waitUntilReachable(dialTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + dialTimeoutMs;
    let lastError: unknown;
    let pauseMs = 50;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        await this.client.kv.range({ key: this.namespace, keys_only: true }, { deadline: Date.now() + left });
        return;
      } catch (error) {
        // Unreachable or not ready (no leader yet): wait and try again.
        // Anything else (refused credentials, something other than etcd
        // listening there) will not change by waiting.
        if (!(error instanceof GRPCUnavailableError || error instanceof GRPCDeadlineExceededError)) {
          const failure = this.failure(error, 'reach etcd');
          if (failure.reason !== 'INTERNAL') throw failure;
          throw new UnavailableError(`etcd at ${this.where} cannot be used (is it an etcd v3 client endpoint?): ${messageOf(error)}`, {
            cause: error,
            metadata: { endpoints: this.where },
          });
        }
        lastError = error;
      }
      await sleep(Math.min(pauseMs, Math.max(0, deadline - Date.now())));
      pauseMs = Math.min(pauseMs * 2, 500);
    }
    throw new UnavailableError(
      `cannot reach etcd at ${this.where} within ${dialTimeoutMs} ms (check --etcd-endpoints and that etcd is running)${lastError === undefined ? '' : `: ${messageOf(lastError)}`}`,
      { cause: lastError, metadata: { endpoints: this.where } },
    );
  }

  private async request<T>(action: string, call: () => Promise<T>, writes?: number): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.failure(error, action, writes);
    }
  }

  /** The `BraidError` for an etcd failure, with the most precise code that fits. */
  private failure(error: unknown, action: string, writes?: number): BraidError {
    if (error instanceof BraidError) return error;
    const detail = messageOf(error);
    const metadata: Record<string, string> = { endpoints: this.where, ...(writes === undefined ? {} : { writes: String(writes) }) };
    const options = { cause: error, metadata };
    // etcd's limits: the same request can never succeed, so not retriable.
    if (detail.includes('too many operations in txn request')) {
      return new FailedPreconditionError(
        `a metadata change of ${writes ?? '?'} writes exceeds etcd's limit on operations per transaction (etcd's --max-txn-ops, 128 by default); nothing was written. Split the change (e.g. delete a topic's subscriptions before the topic) or raise the limit`,
        options,
      );
    }
    if (detail.includes('request is too large') || (error instanceof GRPCResourceExhastedError && detail.includes('larger than max'))) {
      return new FailedPreconditionError(
        `a metadata change exceeds etcd's request size limit (etcd's --max-request-bytes, 1.5 MiB by default); nothing was written: ${detail}`,
        options,
      );
    }
    if (error instanceof GRPCUnavailableError || isBrokenCircuitError(error)) {
      return new UnavailableError(`etcd at ${this.where} is unavailable (${action}): ${detail}`, options);
    }
    if (error instanceof GRPCDeadlineExceededError) {
      return new DeadlineExceededError(
        `etcd at ${this.where} did not answer within ${this.requestTimeoutMs} ms (${action})${action === 'commit' ? '; the writes may or may not have been applied' : ''}: ${detail}`,
        options,
      );
    }
    // e.g. "mvcc: database space exceeded": etcd's --quota-backend-bytes.
    if (error instanceof GRPCResourceExhastedError) return new ResourceExhaustedError(`etcd at ${this.where} refused to ${action}: ${detail}`, options);
    if (error instanceof EtcdPermissionDeniedError) return new BraidError('PERMISSION_DENIED', `etcd at ${this.where} refused to ${action}: ${detail}`, options);
    if (error instanceof GRPCUnauthenticatedError || error instanceof EtcdAuthenticationFailedError || error instanceof EtcdInvalidAuthTokenError) {
      return new BraidError('UNAUTHENTICATED', `etcd at ${this.where} refused to ${action}: ${detail}`, options);
    }
    return new InternalError(`etcd at ${this.where} failed to ${action}: ${detail}`, options);
  }

  private assertOpen(): void {
    if (this.closed) throw new FailedPreconditionError(`the etcd metadata store (${this.where}) is closed`, { metadata: { endpoints: this.where } });
  }

  private etcdKey(key: string): Buffer {
    return Buffer.concat([this.namespace, Buffer.from(key, 'utf8')]);
  }

  private storeKey(etcdKey: Buffer): string {
    return etcdKey.subarray(this.namespace.length).toString('utf8');
  }
}
