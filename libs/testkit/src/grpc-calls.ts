/** Promise helpers over generated grpc-js clients, for integration tests. */
import type { ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import type { BraidError } from '@braid/core';

/**
 * Runs a callback-style unary call as a promise that rejects with a
 * `BraidError`: `await call((cb) => { client.listTopics({}, cb); })`.
 */
export function call<T>(fn: (callback: (error: ServiceError | null, response?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response as T);
    });
  });
}

/** The error `promise` fails with, as a `BraidError`; throws if it succeeds. */
export async function failure(promise: Promise<unknown>): Promise<BraidError> {
  try {
    await promise;
  } catch (error) {
    return fromGrpcError(error);
  }
  throw new Error('the call succeeded but an error was expected');
}
