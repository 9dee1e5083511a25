/**
 * `ProducerService` over gRPC. `Publish` answers one batch. `PublishStream`
 * pipelines: batches are validated and handed to the logs in arrival order
 * (so one stream's records keep their order per partition), become durable
 * concurrently, and are answered strictly in request order. A failed batch
 * is answered with a `StreamError` and the stream stays open. The stream
 * holds at most `maxPendingPerStream` unanswered batches: beyond that it
 * stops reading (HTTP/2 flow control then pushes back on the producer), and
 * it honours `write()` returning false by waiting for 'drain'.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { toStreamError } from '@braid/core';
import { ProducerServiceService } from '@braid/proto';
import type { PublishRequest, PublishResponse, PublishStreamRequest, PublishStreamResponse } from '@braid/proto';
import { bidi, unary } from '@braid/server';
import type { ServiceRegistration } from '@braid/server';
import type { PublishHandler } from './publish-handler.js';
import { withHandDecodedPublishes } from './publish-decoding.js';

/** Unanswered batches one stream may hold before it stops reading. */
const maxPendingPerStream = 64;

function waitForDrain(call: ServerDuplexStream<PublishStreamRequest, PublishStreamResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

async function publishStream(handler: PublishHandler, call: ServerDuplexStream<PublishStreamRequest, PublishStreamResponse>): Promise<void> {
  // Answers queued in request order; each settles to the response to send.
  const answers: Promise<PublishStreamResponse>[] = [];
  const input = { ended: false };
  let ordering: Promise<unknown> = Promise.resolve();
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };

  call.on('data', (message: PublishStreamRequest) => {
    const requestId = message.requestId;
    // Start batches one after another so offsets follow arrival order; only
    // the wait for durability overlaps.
    const started = ordering.then(() =>
      message.publish ? handler.start(message.publish) : Promise.reject(new Error('publish is required')),
    );
    ordering = started.catch(() => undefined);
    answers.push(
      started
        .then(({ durable }) => durable)
        .then(
          (ok: PublishResponse): PublishStreamResponse => ({ requestId, result: { $case: 'ok', value: ok } }),
          (error: unknown): PublishStreamResponse => ({ requestId, result: { $case: 'error', value: toStreamError(error) } }),
        ),
    );
    if (answers.length >= maxPendingPerStream) call.pause();
    notify();
  });
  call.on('end', () => {
    input.ended = true;
    notify();
  });
  call.on('close', () => {
    input.ended = true;
    notify();
  });

  for (;;) {
    const next = answers.shift();
    if (!next) {
      if (input.ended || call.destroyed) return;
      await new Promise<void>((resolve) => { wake = resolve; });
      continue;
    }
    const response = await next;
    if (call.destroyed || call.writableEnded) return;
    if (answers.length < maxPendingPerStream / 2 && call.isPaused()) call.resume();
    if (!call.write(response)) await waitForDrain(call);
  }
}

/** The ProducerService registration for the broker's server. */
export function producerService(handler: PublishHandler): ServiceRegistration {
  return {
    name: 'braid.v1.ProducerService',
    definition: withHandDecodedPublishes(ProducerServiceService),
    implementation: {
      publish: unary<PublishRequest, PublishResponse>((request) => handler.publish(request)),
      publishStream: bidi((call: ServerDuplexStream<PublishStreamRequest, PublishStreamResponse>) => publishStream(handler, call)),
    },
  };
}
