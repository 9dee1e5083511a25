/**
 * The one factory every Braid gRPC server is built with: the same
 * interceptor chain, the standard `grpc.health.v1.Health` service, gRPC
 * server reflection, message size and keepalive settings, and graceful
 * shutdown (NOT_SERVING first, then drain in-flight calls, then cancel what
 * is left).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ChannelOptions, ServerInterceptor, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@braid/core';
import { serverDefaults } from './defaults.js';
import { callLoggingInterceptor } from './interceptors.js';
import type { CallStats } from './interceptors.js';
import { rejectMalformedInterceptor, tolerantDefinition } from './malformed-message.js';
import { raiseHttp2Windows } from './http2-windows.js';
import { createReflectionService } from './reflection.js';

/** A service to serve: its grpc-js definition and implementation. */
export interface ServiceRegistration {
  /** Fully qualified service name for health checks, e.g. `braid.v1.ProducerService`. */
  name: string;
  /** The grpc-js service definition (e.g. `ProducerServiceService`). */
  definition: ServiceDefinition;
  /** The handlers. */
  implementation: UntypedServiceImplementation;
}

/** Options of `createServer`. */
export interface CreateServerOptions {
  /** Logger for call logs and lifecycle. */
  logger: Logger;
  /** Services to serve. */
  services: ServiceRegistration[];
  /** Interceptors run after the standard chain. */
  interceptors?: ServerInterceptor[];
  /** Receives a record of every finished call. */
  callStats?: CallStats;
  /** Extra grpc-js channel options (override the defaults). */
  channelOptions?: ChannelOptions;
}

/** A running (or ready to run) Braid gRPC server. */
export class BraidServer {
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private readonly logger: Logger;
  private readonly serviceNames: string[];
  private boundPort: number | undefined;

  constructor(options: CreateServerOptions) {
    this.logger = options.logger;
    this.serviceNames = options.services.map((s) => s.name);
    this.server = new Server({
      'grpc.max_receive_message_length': serverDefaults.maxReceiveMessageBytes,
      'grpc.max_send_message_length': serverDefaults.maxSendMessageBytes,
      'grpc.keepalive_time_ms': serverDefaults.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': serverDefaults.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      ...options.channelOptions,
      interceptors: [
        callLoggingInterceptor(options.logger, options.callStats),
        rejectMalformedInterceptor(),
        ...(options.interceptors ?? []),
      ],
    });
    for (const service of options.services) {
      this.server.addService(tolerantDefinition(service.definition), service.implementation);
    }
    // Everything starts NOT_SERVING; the app flips to SERVING once it is
    // really ready (storage open, registered with the coordinator, ...).
    this.health = new HealthImplementation({ '': 'NOT_SERVING' });
    for (const name of this.serviceNames) this.health.setStatus(name, 'NOT_SERVING');
    this.health.addToServer(this.server);
    createReflectionService().addToServer(this.server);
  }

  /** The port bound by `listen` (useful with port 0). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('server is not listening');
    return this.boundPort;
  }

  /** Binds `host:port` (port 0 picks a free one) without TLS and starts serving calls. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
        if (error) {
          reject(error);
          return;
        }
        this.boundPort = bound;
        raiseHttp2Windows(
          this.server,
          { connectionWindowBytes: serverDefaults.http2ConnectionWindowBytes, streamWindowBytes: serverDefaults.http2StreamWindowBytes },
          this.logger,
        );
        resolve(bound);
      });
    });
  }

  /** Reports the whole server and every service as SERVING (true) or NOT_SERVING. */
  setServing(serving: boolean): void {
    const state = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', state);
    for (const name of this.serviceNames) this.health.setStatus(name, state);
  }

  /**
   * Graceful shutdown: report NOT_SERVING, stop accepting calls, wait up to
   * `graceMs` for in-flight calls, then cancel the rest.
   */
  async shutdown(graceMs: number = serverDefaults.shutdownGraceMs): Promise<void> {
    this.setServing(false);
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((resolve) => {
      this.server.tryShutdown((error) => {
        if (error) this.logger.warn({ err: error }, 'graceful shutdown reported an error');
        resolve(true);
      });
    });
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => { resolve(false); }, graceMs);
    });
    const clean = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!clean) {
      this.logger.warn({ graceMs }, 'in-flight calls did not finish in time; cancelling them');
      this.server.forceShutdown();
    }
  }
}

/** Builds a Braid server; see `BraidServer`. */
export function createServer(options: CreateServerOptions): BraidServer {
  return new BraidServer(options);
}
