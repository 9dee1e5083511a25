/**
 * Retry order inside one consumer (`RETRY_ORDER_BLOCK_KEY`, DESIGN.md
 * "Settling"). The broker holds back later records of a key while a record
 * of it waits for a retry, but it cannot take back what it already sent: a
 * consumer with a prefetch may hold "delete" queued behind the "create" that
 * just failed. Processing it would overtake the retry. The consumer either
 * parks such records until the retry comes back, or hands them back
 * unprocessed (a nack with `release`, which counts no attempt) and the broker
 * delivers them again after the retried record.
 *
 * **Parking** keeps them here, leases extended, and queues them right behind
 * the retried record when it comes back: no round trip, no second delivery.
 * It is used when the retry is due soon (`block`'s `parkForMs`): a block
 * whose retry does not come back within that time (it went to another
 * member, the stream broke) hands its parked records back, and from then on
 * acts as a handing-back block. Parked records hold the member's credit,
 * which is why only short waits park and at most `maxParked` records park
 * at once; a block that would go past it hands back all it parked (one
 * block never parks some records and hands back others: a handed-back
 * record comes back after the retry, behind parked ones of higher
 * offsets).
 *
 * `BlockedKeys` remembers, per (partition, key), the failed record and the
 * records parked or released behind it, and decides for each record about to
 * be queued or processed whether it may go ahead (`admit`):
 *
 * - records of another key, keyless records and records before the failed
 *   one go ahead;
 * - the failed record itself coming back (its retry) ends the block: from
 *   then on its key is in order again behind it, and the parked records
 *   follow it (`takeUnparked`);
 * - a later record is parked, or released once: a record that comes back
 *   after being released was sent again by the broker on purpose (the
 *   retried record was settled or dead-lettered elsewhere, or the broker
 *   does not hold keys back), so it ends the block and goes ahead. That
 *   bounds the cost of a stale block to one round trip per record and rules
 *   out a release loop.
 *
 * A nack on the last attempt (the broker dead-letters the record instead of
 * retrying it) blocks nothing, and neither does a nack under
 * `RETRY_ORDER_SKIP`.
 */
import { effectiveRetryOrder, subscriptionBackoff } from '@braid/backoff';
import { RetryOrder, SubscriptionMode } from '@braid/proto';
import type { SubscriptionConfig } from '@braid/proto';

/** What a record needs for the decision (a `Message` has it). */
export interface KeyedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | undefined;
}

/**
 * Whether a failure nack of a record delivered for the `attempt`-th time
 * holds its key back: the subscription blocks keys on retry and the record
 * will be retried (not dead-lettered after its last attempt).
 */
export function nackBlocksKey(config: SubscriptionConfig | undefined, attempt: number): boolean {
  if (effectiveRetryOrder(config) !== RetryOrder.RETRY_ORDER_BLOCK_KEY) return false;
  return attempt < subscriptionBackoff(config?.retryPolicy).maxAttempts;
}

/** Retries due within this long park the records behind them (ms). */
export const parkRetriesWithinMs = 1_000;

/** How much longer than its due time a parked block waits for its retry before handing back (ms). */
export const parkGraceMs = 2_000;

/**
 * How long the records behind a record nacked on its `attempt`-th delivery
 * (with `delayMs`, or the subscription's backoff) may park, or undefined to
 * hand them back: the retry must come back to this member soon. In SHARED
 * any member may get the retry, so nothing parks.
 */
export function parkingTime(config: SubscriptionConfig | undefined, attempt: number, delayMs: number | undefined): number | undefined {
  if (config?.mode === SubscriptionMode.SUBSCRIPTION_MODE_SHARED) return undefined;
  let due = delayMs;
  if (due === undefined) {
    const policy = subscriptionBackoff(config?.retryPolicy);
    // The longest the broker's backoff can make it (jitter only shortens or spreads it up to 2x).
    due = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1)) * 2;
  }
  return due <= parkRetriesWithinMs ? due + parkGraceMs : undefined;
}

/** What `admit` decided. */
export type Admission = 'go' | 'park' | 'release';

interface Block<T> {
  /** Offset of the earliest failed record of the key. */
  failedOffset: number;
  /** Offsets released behind it. */
  readonly released: Set<number>;
  /** Records parked behind it, in offset order. */
  parked: T[];
  /** Until when records park (clock ms); undefined: they are released. */
  parkUntil: number | undefined;
  /** `keyHash` of its key. */
  readonly hash: number;
}

/** See the file comment. */
export class BlockedKeys<T extends KeyedRecord> {
  private readonly blocks = new Map<string, Block<T>>();
  /**
   * How many blocks have each `keyHash`: `admit` runs for every record
   * while any key is blocked, and most records are of keys that are not,
   * which this tells without building their key's string id.
   */
  private readonly hashes = new Map<number, number>();
  private unparked: T[] = [];
  private released: T[] = [];
  private parkedCount = 0;

  /**
   * @param now the clock (ms).
   * @param maxParked most records parked at once; beyond it they are released.
   */
  constructor(
    private readonly now: () => number,
    private readonly maxParked: number,
  ) {}

  /** Keys held back now. */
  get size(): number {
    return this.blocks.size;
  }

  /** Records parked now. */
  get parked(): number {
    return this.parkedCount;
  }

  /**
   * A record failed and will be retried: hold back the later records of its
   * key in its partition, parking them for up to `parkForMs` (undefined:
   * release them). Returns false for a keyless record (nothing to hold back).
   */
  block(record: KeyedRecord, parkForMs?: number): boolean {
    const id = blockId(record);
    if (id === undefined) return false;
    const parkUntil = parkForMs === undefined ? undefined : this.now() + parkForMs;
    const block = this.blocks.get(id);
    if (block) {
      block.failedOffset = Math.min(block.failedOffset, record.offset);
      // A block that parked must not start releasing with records still parked.
      if (parkUntil === undefined && block.parked.length > 0) this.stopParking(block);
      block.parkUntil = parkUntil;
    } else {
      const hash = keyHash(record);
      this.blocks.set(id, { failedOffset: record.offset, released: new Set(), parked: [], parkUntil, hash });
      this.hashes.set(hash, (this.hashes.get(hash) ?? 0) + 1);
    }
    return true;
  }

  /**
   * Decides for a record about to be queued or processed: `go` ahead,
   * `park` (kept here until its key's retry comes back; `takeUnparked`
   * then returns it), or `release` (the caller must hand it back; it is
   * counted as released). See the file comment for the rules.
   */
  admit(record: T): Admission {
    if (this.blocks.size === 0 || record.key === undefined || !this.hashes.has(keyHash(record))) return 'go';
    const id = blockId(record);
    if (id === undefined) return 'go';
    const block = this.blocks.get(id);
    if (!block || record.offset < block.failedOffset) return 'go';
    if (record.offset === block.failedOffset || block.released.has(record.offset)) {
      this.end(id, block);
      return 'go';
    }
    if (block.parkUntil !== undefined) {
      if (this.parkedCount < this.maxParked && insertByOffset(block.parked, record)) {
        this.parkedCount++;
        return 'park';
      }
      // Too many parked, or a second delivery of a parked offset: the whole
      // block hands back. A block must not do both: a released record comes
      // back after the retry, behind parked ones of higher offsets.
      this.stopParking(block);
    }
    block.released.add(record.offset);
    return 'release';
  }

  /**
   * Records parked by blocks that stopped parking since the last call (their
   * retry was late, see `expire`, or they had to release): the caller must
   * hand them back; they count as released.
   */
  takeReleased(): T[] {
    if (this.released.length === 0) return this.released;
    const taken = this.released;
    this.released = [];
    return taken;
  }

  /**
   * The parked records of blocks that ended since the last call, each
   * block's in offset order: queue them right behind the record that ended
   * their block.
   */
  takeUnparked(): T[] {
    if (this.unparked.length === 0) return this.unparked;
    const taken = this.unparked;
    this.unparked = [];
    return taken;
  }

  /**
   * Blocks whose retry did not come back in time stop parking: their parked
   * records are to be handed back (`takeReleased`).
   */
  expire(): void {
    const now = this.now();
    for (const block of this.blocks.values()) {
      if (block.parkUntil !== undefined && block.parkUntil <= now) this.stopParking(block);
    }
  }

  private stopParking(block: Block<T>): void {
    block.parkUntil = undefined;
    for (const record of block.parked) {
      block.released.add(record.offset);
      this.released.push(record);
    }
    this.parkedCount -= block.parked.length;
    block.parked = [];
  }

  /** Takes out the parked records `matches` selects (a broken stream's), without ending their blocks. */
  removeParked(matches: (record: T) => boolean): T[] {
    const removed: T[] = [];
    for (const block of this.blocks.values()) {
      if (block.parked.length === 0) continue;
      const kept: T[] = [];
      for (const record of block.parked) (matches(record) ? removed : kept).push(record);
      block.parked = kept;
    }
    this.parkedCount -= removed.length;
    return removed;
  }

  /** Forgets every block; returns the records that were parked. */
  clear(): T[] {
    const parked = [...this.blocks.values()].flatMap((block) => block.parked);
    this.blocks.clear();
    this.hashes.clear();
    this.parkedCount = 0;
    return [...this.takeUnparked(), ...this.takeReleased(), ...parked];
  }

  private end(id: string, block: Block<T>): void {
    this.blocks.delete(id);
    const left = (this.hashes.get(block.hash) ?? 0) - 1;
    if (left > 0) this.hashes.set(block.hash, left);
    else this.hashes.delete(block.hash);
    if (block.parked.length === 0) return;
    this.parkedCount -= block.parked.length;
    for (const record of block.parked) this.unparked.push(record);
  }
}

/** Inserts `record` in offset order; false when its offset is parked already (a second delivery: released instead). */
function insertByOffset<T extends KeyedRecord>(records: T[], record: T): boolean {
  let at = records.length;
  while (at > 0 && (records[at - 1]?.offset ?? 0) > record.offset) at--;
  if (records[at - 1]?.offset === record.offset) return false;
  records.splice(at, 0, record);
  return true;
}

/** FNV-1a over the partition and the key's bytes (no allocation): a prefilter for `blockId`, collisions only cost the exact check. */
function keyHash(record: KeyedRecord): number {
  let hash = (0x811c9dc5 ^ record.partition) >>> 0;
  hash = Math.imul(hash, 0x01000193);
  const key = record.key;
  if (key !== undefined) {
    for (let i = 0; i < key.length; i++) {
      hash ^= key[i] ?? 0;
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return hash >>> 0;
}

function blockId(record: KeyedRecord): string | undefined {
  // latin1 maps each byte to one character: as unique as base64, and cheaper (admit runs it per record while any key is blocked).
  return record.key === undefined ? undefined : `${record.partition}:${record.key.toString('latin1')}`;
}
