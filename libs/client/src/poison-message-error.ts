/**
 * `PoisonMessageError`: what a `consumer.run()` handler throws to say "this
 * record can never be processed, retrying is pointless": the consumer
 * rejects the record (dead-letter now) instead of nacking it (retry with
 * backoff), so a poison record costs one attempt instead of the
 * subscription's `max_attempts`.
 */

/**
 * Marks a record as poison. Thrown from a `consumer.run()` handler, it
 * rejects the record: it is dead-lettered at once, with the error's
 * `message` as the reason and its `name` as the error class in the attempt
 * ledger. Any other error nacks the record (retried with the
 * subscription's backoff).
 *
 * Recognised by `instanceof` and, so that it also works when the
 * application and a library it uses carry two copies of `@braid/client`,
 * by `name === 'PoisonMessageError'`. A subclass may set its own `name`
 * (it becomes the ledger's error class); `instanceof` still recognises it.
 *
 * ```ts
 * await consumer.run((msg) => {
 *   const order = parseOrder(msg.value);
 *   if (!order.customerId) throw new PoisonMessageError('order without a customer');
 *   return bill(order);
 * });
 * ```
 */
export class PoisonMessageError extends Error {
  /** @param message - why the record is poison (the dead letter's reason). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PoisonMessageError';
  }
}

/** Whether `error` is a {@link PoisonMessageError}, from this copy of the package or another. */
export function isPoisonMessageError(error: unknown): error is Error {
  if (error instanceof PoisonMessageError) return true;
  return error instanceof Error && error.name === 'PoisonMessageError';
}
