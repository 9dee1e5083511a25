import { Duplex } from 'node:stream';
import type { ServerDuplexStream, ServiceDefinition, handleBidiStreamingCall } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { StreamBuffers } from './stream-buffers.js';

/** A stand-in for grpc-js's object-mode ServerDuplexStream whose writes finish only when the test says so. */
function stalledStream(): { stream: Duplex; finishOne: () => void } {
  const pending: (() => void)[] = [];
  const stream = new Duplex({
    objectMode: true,
    read: () => undefined,
    write: (_chunk, _encoding, callback: () => void) => { pending.push(callback); },
  });
  return { stream, finishOne: () => { pending.shift()?.(); } };
}

const definition = {
  subscribe: {
    path: '/t.S/Subscribe',
    requestStream: true,
    responseStream: true,
    requestSerialize: (value: unknown) => Buffer.from(String(value)),
    requestDeserialize: (bytes: Buffer) => bytes.toString(),
    // Encodes a message as its text: "abc" is 3 bytes on the wire.
    responseSerialize: (value: unknown) => Buffer.from(String(value)),
    responseDeserialize: (bytes: Buffer) => bytes.toString(),
  },
} as unknown as ServiceDefinition;

function tracked(buffers: StreamBuffers): handleBidiStreamingCall<unknown, unknown> {
  const written: handleBidiStreamingCall<unknown, unknown> = (call) => {
    call.write('hello');
    call.write('abc');
  };
  const registration = buffers.track({ name: 't.S', definition, implementation: { subscribe: written } });
  return registration.implementation.subscribe as handleBidiStreamingCall<unknown, unknown>;
}

describe('StreamBuffers', () => {
  it('counts open streams and the messages and encoded bytes written but not yet finished', () => {
    const buffers = new StreamBuffers();
    const handler = tracked(buffers);
    expect(buffers.stats()).toEqual({ subscribeStreams: 0, queuedMessages: 0, queuedBytes: 0 });
    const { stream, finishOne } = stalledStream();
    handler(stream as unknown as ServerDuplexStream<unknown, unknown>);
    expect(buffers.stats()).toEqual({ subscribeStreams: 1, queuedMessages: 2, queuedBytes: 8 });
    finishOne();
    expect(buffers.stats()).toEqual({ subscribeStreams: 1, queuedMessages: 1, queuedBytes: 3 });
    finishOne();
    expect(buffers.stats()).toEqual({ subscribeStreams: 1, queuedMessages: 0, queuedBytes: 0 });
  });

  it('passes write callbacks on and forgets a stream once it closes', async () => {
    const buffers = new StreamBuffers();
    const handler = tracked(buffers);
    const { stream, finishOne } = stalledStream();
    handler(stream as unknown as ServerDuplexStream<unknown, unknown>);
    const done = new Promise<unknown>((resolve) => { stream.write('more', resolve); });
    finishOne();
    finishOne();
    finishOne();
    // Called, without an error.
    expect(await done).toBeFalsy();
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(buffers.stats()).toEqual({ subscribeStreams: 0, queuedMessages: 0, queuedBytes: 0 });
  });

  it('refuses a registration without the method', () => {
    expect(() => new StreamBuffers().track({ name: 't.S', definition, implementation: {} })).toThrow(/t.S has no method subscribe/);
  });
});
