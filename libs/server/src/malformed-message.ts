/**
 * Undecodable request frames as INVALID_ARGUMENT. grpc-js answers a request
 * its deserializer rejects with INTERNAL ("Error deserializing request"),
 * which blames the server for the client's bytes. Every Braid server wraps
 * its deserializers to return a `MalformedMessage` instead of throwing, and
 * the interceptor below ends such a call with INVALID_ARGUMENT before any
 * handler sees the message.
 */
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder } from '@grpc/grpc-js';
import type { ServerInterceptor, ServiceDefinition } from '@grpc/grpc-js';
import { InvalidArgumentError, toGrpcStatus } from '@braid/core';

/** Stands in for a request frame that could not be decoded. */
export class MalformedMessage {
  constructor(
    /** Why decoding failed. */
    readonly reason: string,
  ) {}
}

/** `definition` with deserializers that return `MalformedMessage` instead of throwing. */
export function tolerantDefinition(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            return new MalformedMessage(error instanceof Error ? error.message : String(error));
          }
        },
      },
    ]),
  );
}

/** Ends a call with INVALID_ARGUMENT when a request frame was undecodable. */
export function rejectMalformedInterceptor(): ServerInterceptor {
  return (methodDescriptor, call) => {
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) => {
          next(
            new ServerListenerBuilder()
              .withOnReceiveMessage((message: unknown, nextMessage) => {
                if (message instanceof MalformedMessage) {
                  intercepting.sendStatus(
                    toGrpcStatus(new InvalidArgumentError(`malformed ${methodDescriptor.path} request: ${message.reason}`)),
                  );
                  return;
                }
                nextMessage(message);
              })
              .build(),
          );
        })
        .build(),
    );
    return intercepting;
  };
}
