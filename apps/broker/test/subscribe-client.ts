// A raw Subscribe stream for the broker's integration tests: collects
// deliveries, stream errors and the final status.
import { status as Status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { SubscribeRequest, StartPosition, SubscriptionMode } from '@braid/proto';
import type { ConsumerServiceClient, Delivery, Notice, StreamError, SubscribeResponse } from '@braid/proto';

export type SubscribeInput = Parameters<typeof SubscribeRequest.fromPartial>[0];

export class SubscribeClient {
  readonly deliveries: Delivery[] = [];
  readonly errors: StreamError[] = [];
  readonly notices: Notice[] = [];
  opened: SubscribeResponse['kind'] | undefined;
  status: ServiceError | undefined;
  private readonly stream;
  private waiters: (() => void)[] = [];
  readonly ended: Promise<void>;

  constructor(
    consumer: ConsumerServiceClient,
    /** Acknowledge every batch as it arrives. */
    private readonly autoAck = false,
  ) {
    this.stream = consumer.subscribe();
    this.stream.on('data', (message: SubscribeResponse) => {
      if (message.kind?.$case === 'deliveries') {
        this.deliveries.push(...message.kind.value.deliveries);
        if (this.autoAck) this.ack(message.kind.value.deliveries);
      }
      else if (message.kind?.$case === 'error') this.errors.push(message.kind.value);
      else if (message.kind?.$case === 'notice') this.notices.push(message.kind.value);
      else if (message.kind?.$case === 'opened') this.opened = message.kind;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ended = new Promise((resolve) => {
      this.stream.on('error', (error: ServiceError) => {
        this.status = error;
        resolve();
      });
      this.stream.on('end', () => { resolve(); });
    });
  }

  send(request: SubscribeInput): void {
    this.stream.write(SubscribeRequest.fromPartial(request));
  }

  open(
    topic: string,
    subscription: string,
    options: { memberId?: string; credit?: number; mode?: SubscriptionMode; ackTimeoutMs?: number; maxUnackedPerMember?: number } = {},
  ): void {
    this.send({
      kind: {
        $case: 'open',
        value: {
          topic,
          subscription,
          memberId: options.memberId ?? '',
          createIfMissing: true,
          config: {
            mode: options.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
            startPosition: StartPosition.START_POSITION_EARLIEST,
            ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
            maxUnackedPerMember: options.maxUnackedPerMember ?? 0,
          },
          initialCredit: { records: options.credit ?? 0, bytes: 0 },
        },
      },
    });
  }

  credit(records: number): void {
    this.send({ kind: { $case: 'credit', value: { records, bytes: 0 } } });
  }

  ack(deliveries: readonly Delivery[]): void {
    this.send({
      kind: {
        $case: 'ack',
        value: { ranges: deliveries.map((d) => ({ partition: d.record?.partition ?? 0, first: d.record?.offset ?? 0, last: d.record?.offset ?? 0 })) },
      },
    });
  }

  /** Resolves once at least `count` deliveries arrived (or the stream ended). */
  async waitFor(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.length < count && this.status === undefined) {
      if (Date.now() > deadline) throw new Error(`only ${this.deliveries.length} of ${count} deliveries arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /**
   * Stops reading: grpc-js then stops asking HTTP/2 for data, the stream's
   * flow-control window closes and the broker's writes back up.
   */
  pause(): void {
    this.stream.pause();
  }

  /** Reads again after `pause()`. */
  resume(): void {
    this.stream.resume();
  }

  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }
}

export { Status };
