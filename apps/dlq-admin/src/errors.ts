/**
 * dlq-admin's own error conditions. Each is a `BraidError` from
 * `@braid/core`, so the server factory turns it into its gRPC status.
 */
import { BraidError } from '@braid/core';

/**
 * A mutating call without the admin token (or with a wrong one) while
 * `BRAID_ADMIN_TOKEN` is set: UNAUTHENTICATED. `@braid/core` maps the
 * condition but has no class for it yet.
 */
export class UnauthenticatedError extends BraidError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}
