/**
 * The pipelined publish path to one broker: a long-lived bidirectional
 * `PublishStream` carrying many batches at once, each answered (in order)
 * by a response with its `request_id`. Writes respect HTTP/2 backpressure
 * (`write()` false -> wait for `drain`). When the stream breaks, every batch
 * still waiting is reported as failed with an *unknown* outcome (it may have
 * been appended), and the next batch opens a new stream. A broker that does
 * not implement the stream (UNIMPLEMENTED) is served with unary `Publish`
 * instead.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { DeadlineExceededError, UnavailableError, errorTrailers, fromGrpcError, fromStreamError } from '@braid/core';
import type { BraidError, Clock, Logger } from '@braid/core';
import { ProducerServiceClient, ProducerServiceService } from '@braid/proto';
import type { PublishRequest, PublishResponse, PublishStreamRequest, PublishStreamResponse } from '@braid/proto';
import { decodePublishStreamResponse, encodePublishStreamRequest } from './publish-codec.js';
import type { ChannelPool } from './channels.js';

/** How one batch ended. */
export type PublishOutcome =
  | { ok: true; response: PublishResponse }
  | {
      ok: false;
      /** Why. */
      error: BraidError;
      /**
       * True when the broker answered with a refusal (nothing of the batch
       * was appended); false when no answer came (connection lost, timeout),
       * so the batch may have been appended.
       */
      refused: boolean;
    };

/** Receives the outcome of one batch. */
export type PublishCallback = (outcome: PublishOutcome) => void;

/** Options of {@link PublishStream}. */
export interface PublishStreamOptions {
  /** The broker (host:port). */
  address: string;
  /** Where the channel to the broker comes from. */
  pool: ChannelPool;
  /** A batch not answered within this long fails (the stream is restarted), in ms. */
  requestTimeoutMs: number;
  /** Time source for the request timeout. */
  clock: Clock;
  /** For stream lifecycle events. */
  logger: Logger;
}

interface Pending {
  readonly request: PublishRequest;
  readonly sentAt: number;
  readonly callback: PublishCallback;
}

type Call = ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>;

/**
 * Whether a failed unary call was answered by a Braid server (its status
 * carries Braid's error detail) rather than lost on the way.
 */
function answeredByBroker(error: ServiceError): boolean {
  if (error.code === Status.DEADLINE_EXCEEDED || error.code === Status.CANCELLED) return false;
  return error.metadata.get(errorTrailers.reason).length > 0;
}

/** One broker's publish stream. */
export class PublishStream {
  private client: ProducerServiceClient | undefined;
  private call: Call | undefined;
  private readonly pending = new Map<number, Pending>();
  private outbox: PublishStreamRequest[] = [];
  private writable = true;
  private nextRequestId = 1;
  private unary = false;
  private watchdog: AbortController | undefined;
  private closed = false;

  constructor(private readonly options: PublishStreamOptions) {}

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one batch; `callback` gets its outcome exactly once. */
  publish(request: PublishRequest, callback: PublishCallback): void {
    if (this.closed) {
      callback({ ok: false, error: new UnavailableError('producer is closed'), refused: true });
      return;
    }
    if (this.unary) {
      this.publishUnary(request, callback);
      return;
    }
    const call = this.call ?? this.openStream();
    const requestId = this.nextRequestId++;
    this.pending.set(requestId, { request, sentAt: this.options.clock.now(), callback });
    this.startWatchdog(call);
    const message: PublishStreamRequest = { requestId, publish: request };
    if (this.writable && this.outbox.length === 0) this.writable = call.write(message);
    else this.outbox.push(message);
  }

  /** Ends the stream; batches still waiting fail with an unknown outcome. */
  close(): void {
    this.closed = true;
    const call = this.call;
    this.failPending(new UnavailableError('producer closed the publish stream'));
    call?.cancel();
    this.client?.close();
    this.client = undefined;
  }

  private producerClient(): ProducerServiceClient {
    this.client ??= this.options.pool.client(this.options.address, ProducerServiceClient);
    return this.client;
  }

  private openStream(): Call {
    // The generated method with the producer's own codec (`publish-codec.ts`).
    const { path } = ProducerServiceService.publishStream;
    const call = this.producerClient().makeBidiStreamRequest<PublishStreamRequest, PublishStreamResponse>(path, encodePublishStreamRequest, decodePublishStreamResponse);
    this.call = call;
    this.writable = true;
    this.outbox = [];
    call.on('data', (response: PublishStreamResponse) => { this.onResponse(call, response); });
    call.on('drain', () => { this.onDrain(call); });
    call.on('error', (error: ServiceError) => { this.onStreamError(call, error); });
    call.on('end', () => {
      if (this.call === call) this.onStreamError(call, undefined);
    });
    this.options.logger.debug({ broker: this.options.address }, 'publish stream opened');
    return call;
  }

  private onResponse(call: Call, response: PublishStreamResponse): void {
    if (this.call !== call) return;
    const pending = this.pending.get(response.requestId);
    if (!pending) {
      this.options.logger.warn({ broker: this.options.address, requestId: response.requestId }, 'publish response for an unknown request; ignored');
      return;
    }
    this.pending.delete(response.requestId);
    const result = response.result;
    if (result?.$case === 'ok') pending.callback({ ok: true, response: result.value });
    else if (result?.$case === 'error') pending.callback({ ok: false, error: fromStreamError(result.value), refused: true });
    else pending.callback({ ok: false, error: new UnavailableError('publish response carried no result'), refused: false });
  }

  private onDrain(call: Call): void {
    if (this.call !== call) return;
    this.writable = true;
    while (this.writable && this.outbox.length > 0) {
      const next = this.outbox.shift();
      if (next) this.writable = call.write(next);
    }
  }

  private onStreamError(call: Call, error: ServiceError | undefined): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.stopWatchdog();
    if (error?.code === Status.UNIMPLEMENTED && !this.closed) {
      // An older or partial broker: nothing on the stream was processed,
      // so every waiting batch goes out again as a unary call.
      this.options.logger.info({ broker: this.options.address }, 'broker does not implement PublishStream; using unary Publish');
      this.unary = true;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) this.publishUnary(p.request, p.callback);
      return;
    }
    const braid = error ? fromGrpcError(error) : new UnavailableError(`broker ${this.options.address} ended the publish stream`);
    this.options.logger.debug({ broker: this.options.address, err: braid, waiting: this.pending.size }, 'publish stream failed');
    this.failPending(braid);
  }

  private failPending(error: BraidError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.outbox = [];
    this.call = undefined;
    this.stopWatchdog();
    for (const p of waiting) p.callback({ ok: false, error, refused: false });
  }

  private publishUnary(request: PublishRequest, callback: PublishCallback): void {
    this.producerClient().publish(request, new Metadata(), { deadline: Date.now() + this.options.requestTimeoutMs }, (error, response) => {
      if (error) callback({ ok: false, error: fromGrpcError(error), refused: answeredByBroker(error) });
      else callback({ ok: true, response });
    });
  }

  /**
   * One timer per stream, armed for the oldest waiting batch: a batch not
   * answered in `requestTimeoutMs` means the stream is stuck, so all of its
   * batches fail (retriably) and the next one opens a fresh stream. It is
   * not cancelled when the stream goes idle (it ends at its next wake-up),
   * only when the stream fails or closes.
   */
  private startWatchdog(call: Call): void {
    if (this.watchdog) return;
    const controller = new AbortController();
    this.watchdog = controller;
    void this.watch(call, controller);
  }

  private stopWatchdog(): void {
    this.watchdog?.abort();
    this.watchdog = undefined;
  }

  private async watch(call: Call, controller: AbortController): Promise<void> {
    const { clock, requestTimeoutMs } = this.options;
    try {
      while (this.call === call && !controller.signal.aborted) {
        const oldest = this.pending.values().next();
        if (oldest.done) return;
        const wait = oldest.value.sentAt + requestTimeoutMs - clock.now();
        if (wait <= 0) {
          this.options.logger.warn({ broker: this.options.address, requestTimeoutMs }, 'publish request timed out; restarting the stream');
          this.failPending(new DeadlineExceededError(`broker ${this.options.address} did not answer a publish within ${requestTimeoutMs} ms`));
          call.cancel();
          return;
        }
        await clock.sleep(wait, controller.signal);
      }
    } catch (error) {
      // The sleep was aborted: the stream went idle, failed or closed.
      if (!controller.signal.aborted) throw error;
    } finally {
      if (this.watchdog === controller) this.watchdog = undefined;
    }
  }
}
