/**
 * The admin token check, in one place for every transport: gRPC handlers
 * pass the `authorization` metadata, the HTTP API its `Authorization`
 * header, and the service layer calls `check` at the top of every mutating
 * method, so no transport can forget it. When no token is configured,
 * everything passes (reads always do; see issue 7: full security comes
 * later).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '@braid/core';

/** Who is calling, as a transport saw it. */
export interface CallContext {
  /** The `authorization` value sent (`Bearer <token>`), if any. */
  authorization?: string | undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** See the file comment. */
export class AdminTokenGuard {
  private readonly expected: Buffer | undefined;

  /** @param token - the configured token; empty or undefined: no check. */
  constructor(token: string | undefined) {
    this.expected = token === undefined || token === '' ? undefined : digest(token);
  }

  /** Whether a token is required. */
  get enabled(): boolean {
    return this.expected !== undefined;
  }

  /**
   * Passes when no token is configured or `context` carries
   * `Bearer <token>`; throws `UnauthenticatedError` otherwise. Compares
   * digests in constant time, so the answer time says nothing about the token.
   */
  check(context: CallContext): void {
    if (this.expected === undefined) return;
    const header = context.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match === null) throw new UnauthenticatedError('this call changes dead-letter queues and needs the admin token: send "authorization: Bearer <token>"');
    if (!timingSafeEqual(digest(match[1] ?? ''), this.expected)) throw new UnauthenticatedError('the admin token is wrong');
  }
}
