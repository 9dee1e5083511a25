/**
 * Argument checks shared by the flow primitives. Each throws `RangeError`
 * naming the argument, so a caller's bug surfaces where it was made instead
 * of as a window or bucket that silently holds `NaN` forever after.
 */

/** `value` must be a whole number of records or bytes, `0` included. */
export function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

/** `value` must be a positive whole number, or `Infinity` for "no limit". */
export function assertLimit(name: string, value: number): void {
  if (value === Number.POSITIVE_INFINITY) return;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer or Infinity, got ${String(value)}`);
  }
}

/** `value` must be a finite number of tokens, `0` included (tokens may be fractional). */
export function assertAmount(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite non-negative number, got ${String(value)}`);
  }
}
