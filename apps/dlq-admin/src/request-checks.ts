/**
 * Checks of request fields shared by the service layers (`dlq-service.ts`,
 * `audit-log.ts`, `alerts/`): INVALID_ARGUMENT naming the bad field, the
 * page size, and the actor a request names.
 */
import { InvalidArgumentError } from '@braid/core';
import { dlqAdminDefaults } from './defaults.js';

/** Who an audit entry names when the request names nobody. */
export const anonymousActor = 'anonymous';

/** INVALID_ARGUMENT `<field> <message>`, with `field` in the metadata. */
export function invalid(field: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${field} ${message}`, { metadata: { field } });
}

/** The page size `pageSize` asks for (0: the default); INVALID_ARGUMENT naming `page_size` when out of range. */
export function checkPageSize(pageSize: number): number {
  const size = pageSize === 0 ? dlqAdminDefaults.pageSize : pageSize;
  if (!Number.isInteger(size) || size < 1 || size > dlqAdminDefaults.maxPageSize) {
    throw invalid('page_size', `must be 1-${dlqAdminDefaults.maxPageSize} (0: ${dlqAdminDefaults.pageSize}), got ${pageSize}`);
  }
  return size;
}

/** The request's actor, trimmed; {@link anonymousActor} when empty. */
export function actorOf(actor: string): string {
  const trimmed = actor.trim();
  return trimmed === '' ? anonymousActor : trimmed;
}
