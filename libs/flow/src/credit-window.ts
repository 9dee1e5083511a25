/**
 * The broker's side of consumer flow control: how much one member has
 * allowed the broker to send it on one `Subscribe` stream. The broker asks
 * {@link CreditWindow.canSend} before every delivery and calls
 * {@link CreditWindow.consume} when it sends; it never sends past the
 * credit (DESIGN.md, "Flow control").
 */
import { assertCount } from './validate.js';

/**
 * Credit in records and bytes for one consumer stream. Credit only grows
 * through {@link CreditWindow.grant} and only shrinks through
 * {@link CreditWindow.consume}.
 *
 * Byte semantics:
 * - Byte credit is enforced only once the member has granted some bytes
 *   (a grant with `bytes > 0`). Until then only records are counted and
 *   bytes sent are not tracked; {@link CreditWindow.availableBytes} is
 *   `Infinity`.
 * - A record larger than the remaining byte credit may still be sent when
 *   the remaining byte credit is at its full granted value, that is, at
 *   least the largest byte credit this window has ever held. Credit only
 *   returns to that level once the member has topped up everything it was
 *   sent, so nothing else is outstanding. Without this rule, a record bigger
 *   than the member's byte prefetch would stall the stream forever.
 * - Sending such a record leaves the byte credit in debt. Later grants pay
 *   the debt off first, and {@link CreditWindow.availableBytes} reports 0
 *   until they have.
 */
export class CreditWindow {
  private records = 0;
  private bytes = 0;
  private byteCeiling = 0;
  private bytesEnforced = false;

  /**
   * Adds credit. Both arguments are non-negative integers; `grant(0, 0)` is a
   * no-op. The first grant with `bytes > 0` switches byte enforcement on for
   * the rest of the stream.
   *
   * @throws RangeError when either argument is negative, fractional or not a
   *   safe integer.
   */
  grant(records: number, bytes: number): void {
    assertCount('records', records);
    assertCount('bytes', bytes);
    this.records += records;
    if (bytes > 0) {
      this.bytesEnforced = true;
      this.bytes += bytes;
      this.byteCeiling = Math.max(this.byteCeiling, this.bytes);
    }
  }

  /**
   * Whether one record of `bytes` bytes may be sent now: at least one record
   * of credit, and enough byte credit (or byte credit not enforced, or the
   * oversized-record rule described on the class). `outstanding` is how
   * many deliveries the member still holds unsettled: with none, a record
   * larger than the remaining byte credit is sent anyway (the contract's
   * rule in `CreditRequest`), so a large record can never stall a member.
   *
   * @throws RangeError when `bytes` is not a non-negative integer.
   */
  canSend(bytes: number, outstanding?: number): boolean {
    assertCount('bytes', bytes);
    if (this.records < 1) return false;
    if (!this.bytesEnforced || bytes <= this.bytes) return true;
    return this.bytes >= this.byteCeiling || outstanding === 0;
  }

  /**
   * Takes one record of `bytes` bytes from the credit, as the broker sends
   * it.
   *
   * @throws RangeError when {@link CreditWindow.canSend} would say no: the
   *   broker must never send past the member's credit, so this is a broker
   *   bug and fails loudly.
   */
  consume(bytes: number, outstanding?: number): void {
    if (!this.canSend(bytes, outstanding)) {
      throw new RangeError(
        `sending ${String(bytes)} bytes exceeds credit ` +
          `(${String(this.records)} records, ${String(this.availableBytes)} bytes)`,
      );
    }
    this.records -= 1;
    if (this.bytesEnforced) this.bytes -= bytes;
  }

  /** Records the broker may still send; never negative. */
  get availableRecords(): number {
    return this.records;
  }

  /**
   * Bytes the broker may still send: `Infinity` while byte credit is not
   * enforced, never negative (0 while an oversized record's debt is unpaid).
   */
  get availableBytes(): number {
    return this.bytesEnforced ? Math.max(0, this.bytes) : Number.POSITIVE_INFINITY;
  }

  /** Whether the member has granted bytes, so byte credit is enforced. */
  get enforcesBytes(): boolean {
    return this.bytesEnforced;
  }
}
