import { describe, expect, it } from 'vitest';
import { AdminTokenGuard } from './admin-token.js';

describe('AdminTokenGuard', () => {
  it('lets everything through when no token is configured', () => {
    for (const token of [undefined, '']) {
      const guard = new AdminTokenGuard(token);
      expect(guard.enabled).toBe(false);
      expect(() => { guard.check({}); }).not.toThrow();
    }
  });

  it('accepts "Bearer <token>" and refuses a missing, malformed or wrong one with UNAUTHENTICATED', () => {
    const guard = new AdminTokenGuard('s3cret');
    expect(guard.enabled).toBe(true);
    expect(() => { guard.check({ authorization: 'Bearer s3cret' }); }).not.toThrow();
    expect(() => { guard.check({ authorization: 'bearer  s3cret ' }); }).not.toThrow();
    for (const authorization of [undefined, '', 's3cret', 'Basic s3cret', 'Bearer s3cre', 'Bearer s3cret2']) {
      expect(() => { guard.check({ authorization }); }, String(authorization)).toThrow(expect.objectContaining({ reason: 'UNAUTHENTICATED', code: 16 }));
    }
  });
});
