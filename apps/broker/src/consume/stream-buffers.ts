/**
 * What the broker's Subscribe streams hold in memory on their way to
 * members, for `DescribeBroker` (`ConsumeBuffers` in admin.proto).
 *
 * `track()` wraps the ConsumerService registration: every Subscribe call
 * counts while it is open, and its writes are metered. A message counts
 * from `write()` until its write callback, which grpc-js calls only once it
 * has handed the serialized message to HTTP/2 and HTTP/2 has taken it; a
 * member whose flow-control window is closed therefore keeps its pending
 * message counted, with the messages queued behind it in the stream's
 * buffer. Messages are the stream's `writableLength` (object mode: a count
 * of messages, the one being handed over included); bytes are their
 * encoded size by the very serializer the server uses (pre-encoded
 * deliveries: their length, no second encoding).
 */
import type { ServerDuplexStream, handleBidiStreamingCall } from '@grpc/grpc-js';
import type { ConsumeBuffers } from '@braid/proto';
import type { ServiceRegistration } from '@braid/server';

type Stream = ServerDuplexStream<unknown, unknown>;
type WriteCallback = (error?: Error | null) => void;
type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

/** Encoded size of `chunk`; 0 if it does not serialize (grpc-js then ends the call with INTERNAL). */
function sizeOf(chunk: unknown, serialize: (value: unknown) => Buffer): number {
  try {
    return serialize(chunk).length;
  } catch {
    return 0;
  }
}

/** See the file comment. */
export class StreamBuffers {
  /** Open streams and the encoded bytes of their unfinished writes. */
  private readonly streams = new Map<Stream, { bytes: number }>();

  /** `registration` with its bidi `method` counted and metered. */
  track(registration: ServiceRegistration, method = 'subscribe'): ServiceRegistration {
    const handler = registration.implementation[method] as handleBidiStreamingCall<unknown, unknown> | undefined;
    const definition = registration.definition[method];
    if (!handler || !definition) throw new Error(`${registration.name} has no method ${method} to track`);
    const serialize = (value: unknown): Buffer => definition.responseSerialize(value);
    const tracked: handleBidiStreamingCall<unknown, unknown> = (call) => {
      this.meter(call, serialize);
      handler(call);
    };
    return { ...registration, implementation: { ...registration.implementation, [method]: tracked } };
  }

  /** Open streams, queued messages and their bytes, summed over streams. */
  stats(): ConsumeBuffers {
    let queuedMessages = 0;
    let queuedBytes = 0;
    for (const [stream, entry] of this.streams) {
      queuedMessages += stream.writableLength;
      queuedBytes += entry.bytes;
    }
    return { subscribeStreams: this.streams.size, queuedMessages, queuedBytes };
  }

  private meter(call: Stream, serialize: (value: unknown) => Buffer): void {
    const entry = { bytes: 0 };
    this.streams.set(call, entry);
    const forget = (): void => { this.streams.delete(call); };
    call.once('close', forget);
    call.once('finish', forget);
    call.once('cancelled', forget);
    const write = call.write.bind(call) as Write;
    const metered: Write = (chunk, ...rest) => {
      const last = rest[rest.length - 1];
      const callback = typeof last === 'function' ? (rest.pop() as WriteCallback) : undefined;
      const size = sizeOf(chunk, serialize);
      entry.bytes += size;
      return write(chunk, ...rest, (error?: Error | null) => {
        entry.bytes -= size;
        callback?.(error);
      });
    };
    call.write = metered as Stream['write'];
  }
}
