/**
 * The broker's connection to the coordinator: register (with retries until
 * it succeeds), renew the lease on a timer (re-registering when the
 * coordinator forgot us), and keep a WatchMetadata stream open (reconnecting
 * with backoff) so topic changes reach the broker without a restart. While
 * the coordinator is down the broker keeps serving from its last metadata.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { Backoff, retry } from '@braid/backoff';
import { fromGrpcError } from '@braid/core';
import type { Logger } from '@braid/core';
import { AdminServiceClient, CoordinatorServiceClient } from '@braid/proto';
import type { CreateSubscriptionRequest, GetMetadataResponse, WatchMetadataResponse } from '@braid/proto';
import { status as Status } from '@grpc/grpc-js';

/** Options of `CoordinatorLink`. */
export interface CoordinatorLinkOptions {
  coordinatorAddress: string;
  brokerId: string;
  /** Address to register; read at registration (the port may be chosen at bind time). */
  advertisedAddress: () => string;
  heartbeatIntervalMs: number;
  logger: Logger;
  /** Called with every full metadata snapshot. */
  onMetadata: (metadata: GetMetadataResponse) => void;
}

const rpcTimeoutMs = 5_000;

function deadline(): { deadline: number } {
  return { deadline: Date.now() + rpcTimeoutMs };
}

function metadata(): Metadata {
  return new Metadata();
}

/** See the file comment. */
export class CoordinatorLink {
  /** Client for forwarding admin calls to the coordinator. */
  readonly admin: AdminServiceClient;
  private readonly coordinator: CoordinatorServiceClient;
  private readonly stopping = new AbortController();
  private leaseId = '';
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watch: ClientReadableStream<WatchMetadataResponse> | undefined;
  private firstMetadata: (() => void) | undefined;

  constructor(private readonly options: CoordinatorLinkOptions) {
    const channelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    this.coordinator = new CoordinatorServiceClient(options.coordinatorAddress, credentials.createInsecure(), channelOptions);
    this.admin = new AdminServiceClient(options.coordinatorAddress, credentials.createInsecure(), channelOptions);
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
    return new Promise((resolve, reject) => {
      this.admin.getMetadata({ topics }, metadata(), deadline(), (error, response) => {
        if (error) reject(fromGrpcError(error));
        else resolve(response);
      });
    });
  }

  /** Creates a subscription at the coordinator. */
  createSubscription(request: CreateSubscriptionRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admin.createSubscription(request, metadata(), deadline(), (error) => {
        if (error) reject(fromGrpcError(error));
        else resolve();
      });
    });
  }

  /**
   * Creates a topic with default settings at the coordinator (a dead-letter
   * topic on first use); one that exists already is fine.
   */
  createTopic(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.admin.createTopic({ name, config: undefined }, metadata(), deadline(), (error) => {
        if (error && error.code !== Status.ALREADY_EXISTS) reject(fromGrpcError(error));
        else resolve();
      });
    });
  }

  /** Stops heartbeats and the watch, and closes the channels. */
  stop(): void {
    this.stopping.abort(new Error('broker stopping'));
    clearTimeout(this.heartbeatTimer);
    this.watch?.cancel();
    this.coordinator.close();
    this.admin.close();
  }

  private register(): Promise<void> {
    const { brokerId, logger } = this.options;
    const advertisedAddress = this.options.advertisedAddress();
    return retry(
      () =>
        new Promise<void>((resolve, reject) => {
          this.coordinator.registerBroker({ brokerId, address: advertisedAddress }, metadata(), deadline(), (error, response) => {
            if (error) {
              reject(fromGrpcError(error));
              return;
            }
            this.leaseId = response.leaseId;
            logger.info({ brokerId, address: advertisedAddress, leaseTtlMs: response.leaseTtlMs }, 'registered with coordinator');
            resolve();
          });
        }),
      {
        initialDelayMs: 100,
        maxDelayMs: 2_000,
        maxAttempts: Infinity,
        signal: this.stopping.signal,
        // The coordinator may simply not be up yet: keep trying until stopped.
        isRetriable: () => true,
        onRetry: ({ attempt, error }) => {
          if (attempt % 10 === 1) logger.warn({ err: error, attempt }, 'coordinator not reachable; retrying registration');
        },
      },
    );
  }

  private scheduleHeartbeat(): void {
    if (this.stopping.signal.aborted) return;
    this.heartbeatTimer = setTimeout(() => { void this.heartbeat(); }, this.options.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    const { brokerId, logger } = this.options;
    try {
      await new Promise<void>((resolve, reject) => {
        this.coordinator.heartbeat({ brokerId, leaseId: this.leaseId }, metadata(), deadline(), (error) => {
          if (error) reject(fromGrpcError(error));
          else resolve();
        });
      });
    } catch (error) {
      const braid = fromGrpcError(error);
      if (braid.code === Status.NOT_FOUND) {
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
    const call = this.coordinator.watchMetadata({ brokerId: this.options.brokerId });
    this.watch = call;
    call.on('data', (message: WatchMetadataResponse) => {
      backoff.reset();
      if (message.metadata) this.options.onMetadata(message.metadata);
      this.firstMetadata?.();
      this.firstMetadata = undefined;
    });
    call.on('error', (error) => {
      if (this.stopping.signal.aborted) return;
      this.options.logger.warn({ err: fromGrpcError(error) }, 'metadata watch broke; reconnecting');
    });
    // 'status' fires exactly once, however the stream ended.
    call.on('status', () => {
      if (this.stopping.signal.aborted) return;
      const delay = backoff.next() ?? 2_000;
      setTimeout(() => { this.openWatch(backoff); }, delay).unref();
    });
  }
}
