/**
 * One member's Subscribe stream as the dispatcher sees it: its credit
 * (records and bytes granted, minus what was sent), its limit on unsettled
 * records, and a writer that honours HTTP/2 backpressure: once `write()`
 * returns false nothing more is sent until 'drain', so a member that stops
 * reading never makes the broker buffer for it.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { CreditWindow } from '@braid/flow';
import type { Notice, StreamError, SubscribeRequest } from '@braid/proto';
import type { EncodedResponse, SubscribeOutput } from './delivery-encoding.js';

/** See the file comment. */
export class MemberSession {
  readonly credit = new CreditWindow();
  private writable = true;
  private ended = false;

  constructor(
    readonly memberId: string,
    private readonly call: ServerDuplexStream<SubscribeRequest, SubscribeOutput>,
    /** Most unsettled records this member may hold. */
    readonly maxUnacked: number,
    /** Called when the stream can take writes again. */
    private readonly onWritable: () => void,
  ) {
    call.on('drain', () => {
      this.writable = true;
      this.onWritable();
    });
  }

  /** Whether the stream is open. */
  get open(): boolean {
    return !this.ended && !this.call.destroyed && !this.call.writableEnded;
  }

  /** Whether a delivery of `bytes` may be sent now, given `held` unsettled records. */
  canTake(bytes: number, held: number): boolean {
    return this.open && this.writable && held < this.maxUnacked && this.credit.canSend(bytes, held);
  }

  /** Whether the member could take anything at all right now. */
  ready(held: number): boolean {
    return this.open && this.writable && held < this.maxUnacked && this.credit.availableRecords > 0;
  }

  /** Sends an encoded batch of deliveries (credit must have been consumed by the caller). */
  deliver(batch: EncodedResponse): void {
    this.write(batch);
  }

  /** Reports a failed request on the stream without closing it. */
  error(error: StreamError): void {
    this.write({ kind: { $case: 'error', value: error } });
  }

  /** Sends a notice. */
  notice(notice: Notice): void {
    this.write({ kind: { $case: 'notice', value: notice } });
  }

  /** Marks the session over (the stream ended or failed). */
  end(): void {
    this.ended = true;
  }

  private write(message: SubscribeOutput): void {
    if (!this.open) return;
    if (!this.call.write(message)) this.writable = false;
  }
}
