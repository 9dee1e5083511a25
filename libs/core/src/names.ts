/**
 * Naming rules for topics and subscriptions (Kafka's rules): 1-249
 * characters of `[A-Za-z0-9._-]`, and not `.` or `..` (they would be
 * ambiguous as path segments in tools and in the console's URLs).
 */
import { InvalidNameError } from './errors.js';

const allowed = /^[A-Za-z0-9._-]+$/;

/** The longest allowed name. */
export const maxNameLength = 249;

/** Throws `InvalidNameError` (INVALID_ARGUMENT) unless `name` is valid. */
export function assertValidName(kind: 'topic' | 'subscription', name: string): void {
  if (name.length === 0) throw new InvalidNameError(kind, name, 'must not be empty');
  if (name.length > maxNameLength) {
    throw new InvalidNameError(kind, name.slice(0, 20) + '...', `must be at most ${maxNameLength} characters (got ${name.length})`);
  }
  if (name === '.' || name === '..') throw new InvalidNameError(kind, name, 'must not be "." or ".."');
  if (!allowed.test(name)) throw new InvalidNameError(kind, name, 'may only contain A-Z, a-z, 0-9, ".", "_" and "-"');
}
