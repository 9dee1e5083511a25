/**
 * The member's (SDK's) side of consumer flow control: decides when to send
 * the broker more credit, and how much, as the application finishes work.
 * Pairs with the broker's {@link CreditWindow}.
 */
import { creditGrantorDefaults } from './defaults.js';
import { assertCount, assertLimit } from './validate.js';

/** Credit to send to the broker in one flow-control message. */
export interface CreditGrant {
  /** Records added to the broker's window. */
  readonly records: number;
  /** Bytes added to the broker's window (0 when byte credit is off). */
  readonly bytes: number;
}

/** Options for {@link CreditGrantor}; defaults in {@link creditGrantorDefaults}. */
export interface CreditGrantorOptions {
  /** Records the member lets the broker have in flight to it: a positive integer. */
  prefetchRecords?: number;
  /** Bytes likewise: a positive integer, or `Infinity` to turn byte credit off. */
  prefetchBytes?: number;
  /**
   * Fraction of the prefetch, in `[0, 1]`. The grantor tops up when
   * outstanding records or bytes fall below `topUpThreshold * prefetch`:
   * `1` tops up after every settled record, `0` only when the application
   * holds nothing.
   */
  topUpThreshold?: number;
}

const NO_GRANT: CreditGrant = { records: 0, bytes: 0 };

/**
 * Keeps a member's credit topped up to its prefetch, in batches.
 *
 * The grantor models credit from the member's side. Outstanding credit is
 * what the broker may still send plus what was delivered and not yet
 * settled. Delivery moves credit into the application's hands; settling
 * releases it. When outstanding records or bytes fall below
 * `topUpThreshold * prefetch`, the grantor returns a grant that brings both
 * back up to the prefetch, so one grant covers many settled records.
 *
 * It also tops up whenever the application holds nothing. Otherwise a
 * record larger than the partly refilled byte credit, but within the
 * prefetch, would wait forever. Once credit is back to the full prefetch,
 * the broker's {@link CreditWindow} lets even an oversized record through,
 * so the stream cannot stall.
 *
 * Usage: send `open()` with the subscribe request, call `onDelivered` for
 * each record received, and send whatever `onSettled` returns.
 */
export class CreditGrantor {
  /** Records the member lets the broker have in flight to it. */
  readonly prefetchRecords: number;
  /** Bytes the member lets the broker have in flight to it (`Infinity`: byte credit off). */
  readonly prefetchBytes: number;
  /** Fraction of the prefetch below which outstanding credit is topped up. */
  readonly topUpThreshold: number;

  private creditRecords = 0;
  private creditBytes = 0;
  private heldRecordCount = 0;
  private heldByteCount = 0;
  private bytesGrantedOnStream = false;

  /** @throws RangeError on an invalid option. */
  constructor(options: CreditGrantorOptions = {}) {
    this.prefetchRecords = options.prefetchRecords ?? creditGrantorDefaults.prefetchRecords;
    this.prefetchBytes = options.prefetchBytes ?? creditGrantorDefaults.prefetchBytes;
    this.topUpThreshold = options.topUpThreshold ?? creditGrantorDefaults.topUpThreshold;
    assertLimit('prefetchRecords', this.prefetchRecords);
    if (!Number.isFinite(this.prefetchRecords)) {
      throw new RangeError('prefetchRecords must be finite: record credit is always granted');
    }
    assertLimit('prefetchBytes', this.prefetchBytes);
    if (!(this.topUpThreshold >= 0 && this.topUpThreshold <= 1)) {
      throw new RangeError(`topUpThreshold must be in [0, 1], got ${String(this.topUpThreshold)}`);
    }
  }

  /**
   * Starts a new stream, whose broker-side window starts empty, and returns
   * the first grant: the prefetch less whatever the application still holds
   * from an earlier stream. It may be zero when the application holds a full
   * prefetch already. Settling those records tops the new stream up later.
   */
  open(): CreditGrant {
    this.creditRecords = 0;
    this.creditBytes = 0;
    this.bytesGrantedOnStream = false;
    return this.topUp() ?? NO_GRANT;
  }

  /**
   * A record of `bytes` bytes arrived: one record's credit moves into the
   * application's hands.
   *
   * @throws RangeError when `bytes` is not a non-negative integer.
   */
  onDelivered(bytes: number): void {
    assertCount('bytes', bytes);
    // The broker cannot send past credit, except an oversized record sent
    // into a full byte window; that leaves the modelled byte credit
    // negative, as it leaves the broker's, until a grant pays it off.
    this.creditRecords -= 1;
    if (this.bytesLimited) this.creditBytes -= bytes;
    this.heldRecordCount += 1;
    this.heldByteCount += bytes;
  }

  /**
   * The application finished with a record of `bytes` bytes (acked,
   * nacked or rejected). Returns the grant to send now, or `undefined` while
   * outstanding credit is still above the threshold.
   *
   * @throws RangeError when nothing is held or `bytes` exceeds the bytes
   *   held: the SDK settled something it was never delivered.
   */
  onSettled(bytes: number): CreditGrant | undefined {
    assertCount('bytes', bytes);
    if (this.heldRecordCount < 1 || bytes > this.heldByteCount) {
      throw new RangeError(
        `settling ${String(bytes)} bytes but only ${String(this.heldRecordCount)} records ` +
          `(${String(this.heldByteCount)} bytes) are held`,
      );
    }
    this.heldRecordCount -= 1;
    this.heldByteCount -= bytes;
    return this.shouldTopUp() ? this.topUp() : undefined;
  }

  /** Records delivered and not yet settled. */
  get heldRecords(): number {
    return this.heldRecordCount;
  }

  /** Bytes delivered and not yet settled. */
  get heldBytes(): number {
    return this.heldByteCount;
  }

  /** Record credit the broker may still use plus records held. */
  get outstandingRecords(): number {
    return this.creditRecords + this.heldRecordCount;
  }

  /**
   * Byte credit the broker may still use plus bytes held. While byte credit
   * is off, this is the bytes held.
   */
  get outstandingBytes(): number {
    return this.creditBytes + this.heldByteCount;
  }

  private get bytesLimited(): boolean {
    return Number.isFinite(this.prefetchBytes);
  }

  private shouldTopUp(): boolean {
    const records = this.outstandingRecords;
    const bytes = this.outstandingBytes;
    const limited = this.bytesLimited;
    if (records < this.topUpThreshold * this.prefetchRecords) return true;
    if (limited && bytes < this.topUpThreshold * this.prefetchBytes) return true;
    // The application holds nothing, so nothing will settle and prompt a
    // later grant: return all credit now (see the class comment).
    return (
      this.heldRecordCount === 0 &&
      (records < this.prefetchRecords || (limited && bytes < this.prefetchBytes))
    );
  }

  private topUp(): CreditGrant | undefined {
    const records = Math.max(0, this.prefetchRecords - this.outstandingRecords);
    const bytes = this.bytesLimited ? Math.max(0, this.prefetchBytes - this.outstandingBytes) : 0;
    // A window that has never been granted bytes does not enforce them, so
    // granting records without bytes first would let the broker send
    // unlimited bytes. Wait until there are bytes to grant too.
    if (this.bytesLimited && !this.bytesGrantedOnStream && bytes === 0) return undefined;
    if (records === 0 && bytes === 0) return undefined;
    this.creditRecords += records;
    this.creditBytes += bytes;
    if (bytes > 0) this.bytesGrantedOnStream = true;
    return { records, bytes };
  }
}
