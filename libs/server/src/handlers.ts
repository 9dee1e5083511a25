/**
 * Adapters from async functions to grpc-js handlers. Whatever a handler
 * throws becomes a precise status through `toGrpcStatus` (BraidError ->
 * its code and detail; anything else -> INTERNAL), so nothing leaks to a
 * client as UNKNOWN and no handler needs its own try/catch.
 */
import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
} from '@grpc/grpc-js';
import { toGrpcStatus } from '@braid/core';

/** An async unary handler. */
export type UnaryFn<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;
/** An async server-streaming handler; the stream ends when it resolves. */
export type ServerStreamFn<Req, Res> = (call: ServerWritableStream<Req, Res>) => Promise<void>;
/** An async client-streaming handler. */
export type ClientStreamFn<Req, Res> = (call: ServerReadableStream<Req, Res>) => Promise<Res>;
/** An async bidi handler; the stream ends (OK) when it resolves. */
export type BidiFn<Req, Res> = (call: ServerDuplexStream<Req, Res>) => Promise<void>;

/**
 * Runs `fn` so that a synchronous throw becomes a rejection too; otherwise
 * grpc-js would catch it itself and answer UNKNOWN.
 */
function invoke<T>(fn: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => { resolve(fn()); });
}

/** Wraps an async unary handler. */
export function unary<Req, Res>(fn: UnaryFn<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    invoke(() => fn(call.request, call)).then(
      (response) => { callback(null, response); },
      (error: unknown) => { callback(toGrpcStatus(error)); },
    );
  };
}

/** Wraps an async client-streaming handler. */
export function clientStream<Req, Res>(fn: ClientStreamFn<Req, Res>): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    invoke(() => fn(call)).then(
      (response) => { callback(null, response); },
      (error: unknown) => { callback(toGrpcStatus(error)); },
    );
  };
}

function finish(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, error?: unknown): void {
  if (call.writableEnded || call.destroyed) return;
  if (error === undefined) {
    call.end();
  } else {
    // grpc-js turns an 'error' event on a server stream into the final
    // status (code, details, trailers) and ends the stream.
    call.emit('error', toGrpcStatus(error));
  }
}

/** Wraps an async server-streaming handler. */
export function serverStream<Req, Res>(fn: ServerStreamFn<Req, Res>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    invoke(() => fn(call)).then(
      () => { finish(call); },
      (error: unknown) => { finish(call, error); },
    );
  };
}

/** Wraps an async bidi handler. */
export function bidi<Req, Res>(fn: BidiFn<Req, Res>): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    invoke(() => fn(call)).then(
      () => { finish(call); },
      (error: unknown) => { finish(call, error); },
    );
  };
}
