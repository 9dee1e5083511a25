/**
 * The broker's connection to the coordinator: register (with retries until
 * it succeeds), renew the lease on a timer (re-registering when the
 * coordinator forgot us), and keep a WatchMetadata stream open (reconnecting
 * with backoff) so topic changes reach the broker without a restart. While
 * no coordinator can be reached the broker keeps serving from its last
 * metadata.
 *
 * Several coordinators may be given (on etcd one leads, the others stand
 * by). Every call goes to the coordinator believed to lead; one that
 * answers UNAVAILABLE (down, shutting down, or a standby, which names the
 * leader) is left for the leader it names, else for the next address, each
 * tried at most once per call. The watch follows the same choice when it
 * reconnects. After a failover the new leader knows the broker's lease
 * (leases are kept in etcd), so heartbeats simply carry on; if it does not,
 * its NOT_FOUND makes the broker register again.
 *
 * Each registration comes with the broker's leader epoch (`onLease`). A
 * registration refused because another process holds a live lease under
 * this broker id (ALREADY_EXISTS: this process was paused or cut off long
 * enough for its lease to lapse and a replacement to register) fences the
 * broker (`onFenced`): it must not serve its partitions until it registers
 * again.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import type { CallOptions, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { Backoff, retry } from '@braid/backoff';
import { BraidError, InternalError, fromGrpcError } from '@braid/core';
import type { Logger } from '@braid/core';
import { AdminServiceClient, CoordinatorServiceClient } from '@braid/proto';
import type { CreateSubscriptionRequest, GetMetadataResponse, WatchMetadataResponse } from '@braid/proto';
import { status as Status } from '@grpc/grpc-js';

/** Options of `CoordinatorLink`. */
export interface CoordinatorLinkOptions {
  /** Coordinator addresses (host:port), at least one; with several, the leader is followed. */
  coordinatorAddresses: readonly string[];
  brokerId: string;
  /** Address to register; read at registration (the port may be chosen at bind time). */
  advertisedAddress: () => string;
  heartbeatIntervalMs: number;
  logger: Logger;
  /** Called with every full metadata snapshot. */
  onMetadata: (metadata: GetMetadataResponse) => void;
  /** Called after every registration with the broker's leader epoch. */
  onLease?: (leaderEpoch: number) => void;
  /** Called when a registration finds another live process under this broker id (see the file comment). */
  onFenced?: () => void;
}

const rpcTimeoutMs = 5_000;

function deadline(timeoutMs = rpcTimeoutMs): { deadline: number } {
  return { deadline: Date.now() + timeoutMs };
}

function metadata(): Metadata {
  return new Metadata();
}

type UnaryClientMethod = (
  request: unknown,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response?: unknown) => void,
) => unknown;

/** Both services of one coordinator. */
interface CoordinatorClients {
  coordinator: CoordinatorServiceClient;
  admin: AdminServiceClient;
}

const channelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // A coordinator restarted on the same address (a supervisor bringing a
  // deposed leader back as a standby) is found again within 2 s rather
  // than after grpc-js's default backoff of up to 2 minutes.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/** See the file comment. */
export class CoordinatorLink {
  private readonly clients = new Map<string, CoordinatorClients>();
  /** Where calls go first: the leader as far as the link knows. */
  private target: string;
  private readonly stopping = new AbortController();
  private leaseId = '';
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watch: ClientReadableStream<WatchMetadataResponse> | undefined;
  private firstMetadata: (() => void) | undefined;
  /** Set by `deregister`: no more heartbeats or registrations. */
  private leaving = false;

  constructor(private readonly options: CoordinatorLinkOptions) {
    const first = options.coordinatorAddresses[0];
    if (first === undefined) throw new Error('CoordinatorLink needs at least one coordinator address');
    this.target = first;
  }

  /** The coordinator calls go to first (the leader as far as the link knows). */
  get leader(): string {
    return this.target;
  }

  /** Registers, starts heartbeats and the metadata watch; resolves on the first snapshot. */
  async start(): Promise<void> {
    await this.register();
    const first = new Promise<void>((resolve) => { this.firstMetadata = resolve; });
    this.openWatch(new Backoff({ initialDelayMs: 100, maxDelayMs: 2_000, maxAttempts: Infinity }));
    this.scheduleHeartbeat();
    const stopped = new Promise<void>((resolve) => {
      this.stopping.signal.addEventListener('abort', () => { resolve(); });
    });
    await Promise.race([first, stopped]);
  }

  /** Fetches metadata for `topics` directly (for cache misses). */
  fetchMetadata(topics: string[]): Promise<GetMetadataResponse> {
    return this.toLeader(
      ({ admin }) =>
        new Promise((resolve, reject) => {
          admin.getMetadata({ topics }, metadata(), deadline(), (error, response) => {
            if (error) reject(fromGrpcError(error));
            else resolve(response);
          });
        }),
    );
  }

  /** Creates a subscription at the coordinator. */
  createSubscription(request: CreateSubscriptionRequest): Promise<void> {
    return this.toLeader(
      ({ admin }) =>
        new Promise((resolve, reject) => {
          admin.createSubscription(request, metadata(), deadline(), (error) => {
            if (error) reject(fromGrpcError(error));
            else resolve();
          });
        }),
    );
  }

  /**
   * Calls the unary AdminService method `method` (its grpc-js client name,
   * e.g. `createTopic`) at the leading coordinator: how the broker forwards
   * admin calls.
   */
  callAdmin(method: string, request: unknown, timeoutMs: number): Promise<unknown> {
    return this.toLeader(({ admin }) => {
      const fn = (admin as unknown as Record<string, UnaryClientMethod | undefined>)[method];
      if (!fn) return Promise.reject(new InternalError(`AdminServiceClient has no method ${method}`));
      return new Promise((resolve, reject) => {
        fn.call(admin, request, metadata(), deadline(timeoutMs), (error, response) => {
          if (error) reject(fromGrpcError(error));
          else resolve(response);
        });
      });
    });
  }

  /**
   * Creates a topic with default settings at the coordinator (a dead-letter
   * topic on first use); one that exists already is fine.
   */
  createTopic(name: string): Promise<void> {
    return this.toLeader(
      ({ admin }) =>
        new Promise((resolve, reject) => {
          admin.createTopic({ name, config: undefined }, metadata(), deadline(), (error) => {
            if (error && error.code !== Status.ALREADY_EXISTS) reject(fromGrpcError(error));
            else resolve();
          });
        }),
    );
  }

  /**
   * Ends this broker's lease at the coordinator (on a graceful stop), so
   * its partitions are reported unavailable now, not when the lease would
   * lapse. Best effort: a coordinator that does not answer within
   * `timeoutMs` lets the lease lapse instead.
   */
  async deregister(timeoutMs = 1_000): Promise<void> {
    const { brokerId, logger } = this.options;
    this.leaving = true;
    clearTimeout(this.heartbeatTimer);
    if (this.leaseId === '') return;
    try {
      await this.toLeader(
        ({ coordinator }) =>
          new Promise<void>((resolve, reject) => {
            coordinator.deregisterBroker({ brokerId, leaseId: this.leaseId }, metadata(), deadline(timeoutMs), (error) => {
              if (error) reject(fromGrpcError(error));
              else resolve();
            });
          }),
      );
      logger.info({ brokerId }, 'deregistered from the coordinator');
    } catch (error) {
      logger.warn({ err: error }, 'deregistration failed; the lease will lapse instead');
    }
  }

  /** Stops heartbeats and the watch, and closes the channels. */
  stop(): void {
    this.stopping.abort(new Error('broker stopping'));
    clearTimeout(this.heartbeatTimer);
    this.watch?.cancel();
    for (const { coordinator, admin } of this.clients.values()) {
      coordinator.close();
      admin.close();
    }
    this.clients.clear();
  }

  private clientsOf(address: string): CoordinatorClients {
    let clients = this.clients.get(address);
    if (!clients) {
      clients = {
        coordinator: new CoordinatorServiceClient(address, credentials.createInsecure(), channelOptions),
        admin: new AdminServiceClient(address, credentials.createInsecure(), channelOptions),
      };
      this.clients.set(address, clients);
    }
    return clients;
  }

  /**
   * Runs `call` at the coordinator believed to lead, moving on after
   * UNAVAILABLE (see the file comment); any other answer is final. Rejects
   * with the last UNAVAILABLE once every coordinator was tried.
   */
  private async toLeader<T>(call: (clients: CoordinatorClients) => Promise<T>): Promise<T> {
    const tried = new Set<string>();
    for (;;) {
      const address = this.target;
      tried.add(address);
      try {
        return await call(this.clientsOf(address));
      } catch (error) {
        const braid = error instanceof BraidError ? error : fromGrpcError(error);
        if (braid.code !== Status.UNAVAILABLE) throw braid;
        const next = this.moveOn(address, braid, tried);
        if (next === undefined) throw braid;
      }
    }
  }

  /**
   * After `failed` answered UNAVAILABLE: the leader it names, else the next
   * address in the list, skipping those in `tried`; undefined when none is
   * left. Becomes the new target when there is one.
   */
  private moveOn(failed: string, error: BraidError, tried: ReadonlySet<string> = new Set([failed])): string | undefined {
    // Another call moved on already: follow it.
    if (this.target !== failed && !tried.has(this.target)) return this.target;
    const addresses = this.options.coordinatorAddresses;
    let next: string | undefined;
    if (error.leaderAddress !== '' && !tried.has(error.leaderAddress)) {
      next = error.leaderAddress;
    } else {
      const from = addresses.indexOf(failed);
      for (let i = 1; i <= addresses.length && next === undefined; i++) {
        const candidate = addresses[(from + i) % addresses.length];
        if (candidate !== undefined && !tried.has(candidate)) next = candidate;
      }
    }
    if (next !== undefined && next !== this.target) {
      this.options.logger.info({ from: failed, to: next, reason: error.reason, named: error.leaderAddress || undefined }, 'trying another coordinator');
      this.target = next;
    }
    return next;
  }

  private register(): Promise<void> {
    const { brokerId, logger } = this.options;
    const advertisedAddress = this.options.advertisedAddress();
    return retry(
      () =>
        this.toLeader(
          ({ coordinator }) =>
            new Promise<void>((resolve, reject) => {
              coordinator.registerBroker({ brokerId, address: advertisedAddress }, metadata(), deadline(), (error, response) => {
                if (error) {
                  reject(fromGrpcError(error));
                  return;
                }
                this.leaseId = response.leaseId;
                logger.info(
                  { brokerId, address: advertisedAddress, leaseTtlMs: response.leaseTtlMs, leaderEpoch: response.leaderEpoch, coordinator: this.target },
                  'registered with coordinator',
                );
                this.options.onLease?.(response.leaderEpoch);
                resolve();
              });
            }),
        ),
      {
        initialDelayMs: 100,
        maxDelayMs: 2_000,
        maxAttempts: Infinity,
        signal: this.stopping.signal,
        // The coordinator may simply not be up yet: keep trying until stopped.
        isRetriable: () => true,
        onRetry: ({ attempt, error }) => {
          if (fromGrpcError(error).code === Status.ALREADY_EXISTS) {
            if (attempt % 10 === 1) logger.error({ err: error, attempt }, 'another process holds this broker id; not serving until this one registers again');
            this.options.onFenced?.();
          } else if (attempt % 10 === 1) {
            logger.warn({ err: error, attempt }, 'coordinator not reachable; retrying registration');
          }
        },
      },
    );
  }

  private scheduleHeartbeat(): void {
    if (this.stopping.signal.aborted || this.leaving) return;
    this.heartbeatTimer = setTimeout(() => { void this.heartbeat(); }, this.options.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    const { brokerId, logger } = this.options;
    try {
      await this.toLeader(
        ({ coordinator }) =>
          new Promise<void>((resolve, reject) => {
            coordinator.heartbeat({ brokerId, leaseId: this.leaseId }, metadata(), deadline(), (error) => {
              if (error) reject(fromGrpcError(error));
              else resolve();
            });
          }),
      );
    } catch (error) {
      const braid = fromGrpcError(error);
      if (braid.code === Status.NOT_FOUND && !this.leaving) {
        // The coordinator lost our lease (it restarted, or we were away too
        // long): register again.
        logger.warn({ brokerId }, 'lease unknown to the coordinator; registering again');
        try {
          await this.register();
        } catch (registerError) {
          if (!this.stopping.signal.aborted) logger.error({ err: registerError }, 're-registration failed');
        }
      } else if (!this.stopping.signal.aborted) {
        logger.warn({ err: braid }, 'heartbeat failed; serving from the last metadata');
      }
    }
    this.scheduleHeartbeat();
  }

  private openWatch(backoff: Backoff): void {
    if (this.stopping.signal.aborted) return;
    const address = this.target;
    const call = this.clientsOf(address).coordinator.watchMetadata({ brokerId: this.options.brokerId });
    this.watch = call;
    let failure: BraidError | undefined;
    call.on('data', (message: WatchMetadataResponse) => {
      backoff.reset();
      if (message.metadata) this.options.onMetadata(message.metadata);
      this.firstMetadata?.();
      this.firstMetadata = undefined;
    });
    call.on('error', (error) => {
      if (this.stopping.signal.aborted) return;
      failure = fromGrpcError(error);
      this.options.logger.warn({ err: failure, coordinator: address }, 'metadata watch broke; reconnecting');
    });
    // 'status' fires exactly once, however the stream ended.
    call.on('status', () => {
      if (this.stopping.signal.aborted) return;
      // Down, shutting down or a standby: reconnect to the leader it names, or the next one.
      if (failure?.code === Status.UNAVAILABLE) this.moveOn(address, failure);
      const delay = backoff.next() ?? 2_000;
      setTimeout(() => { this.openWatch(backoff); }, delay).unref();
    });
  }
}
