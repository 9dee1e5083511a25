/**
 * How the consumer settles a message on the application's behalf
 * (`consumer.run()`'s handler mode, and the consumer's `parse` option):
 *
 * | outcome | settlement |
 * |---|---|
 * | the handler returns (its promise resolves) | `ack()` |
 * | it throws a `PoisonMessageError` | `reject(error.message, { errorClass: error.name })`: dead-letter now |
 * | `parse` throws | `reject('parse failed: ' + error.message, { errorClass: error.name })`, the handler is not called |
 * | it throws anything else | `nack({ reason: error.message, errorClass: error.name })`: retried after the subscription's backoff |
 *
 * A message the handler settled itself is left as it is: the first
 * settlement wins (an ack followed by a throw stays an ack).
 */
import type { AnyMessage, Disposition } from './message.js';
import { isPoisonMessageError } from './poison-message-error.js';

/** Reason and class of a thrown value, as the attempt ledger records them. */
function describe(error: unknown): { reason: string; errorClass: string } {
  if (error instanceof Error) return { reason: error.message, errorClass: error.name };
  return { reason: String(error), errorClass: typeof error };
}

/** The handler returned: acks the message unless it was settled already. */
export function settleSuccess(message: AnyMessage): void {
  if (message.disposition === undefined) message.ack();
}

/**
 * The handler threw `error`: rejects the message for a `PoisonMessageError`,
 * nacks it otherwise (no delay: the subscription's backoff applies). Returns
 * what was done, or undefined when the handler had settled the message.
 */
export function settleFailure(message: AnyMessage, error: unknown): Disposition | undefined {
  if (message.disposition !== undefined) return undefined;
  const { reason, errorClass } = describe(error);
  if (isPoisonMessageError(error)) {
    message.reject(reason, { errorClass });
    return 'reject';
  }
  message.nack({ reason, errorClass });
  return 'nack';
}

/** The payload did not parse: rejects the message as poison (retrying cannot make it parse). */
export function rejectUnparsable(message: AnyMessage, error: unknown): void {
  const { reason, errorClass } = describe(error);
  message.reject(`parse failed: ${reason}`, { errorClass });
}
