/**
 * Retry order inside one consumer (`RETRY_ORDER_BLOCK_KEY`, DESIGN.md
 * "Settling"). The broker holds back later records of a key while a record
 * of it waits for a retry, but it cannot take back what it already sent: a
 * consumer with a prefetch may hold "delete" queued behind the "create" that
 * just failed. Processing it would overtake the retry, so the consumer hands
 * such records back unprocessed (a nack with `release`, which counts no
 * attempt) and the broker delivers them again after the retried record.
 *
 * `BlockedKeys` remembers, per (partition, key), the failed record and the
 * records released behind it, and decides for each record about to be
 * queued or processed whether it may go ahead:
 *
 * - records of another key, keyless records and records before the failed
 *   one go ahead;
 * - the failed record itself coming back (its retry) ends the block: from
 *   then on its key is in order again behind it;
 * - a later record is released, once: a record that comes back after being
 *   released was sent again by the broker on purpose (the retried record was
 *   settled or dead-lettered elsewhere, or the broker does not hold keys
 *   back), so it ends the block and goes ahead. That bounds the cost of a
 *   stale block to one round trip per record and rules out a release loop.
 *
 * A nack on the last attempt (the broker dead-letters the record instead of
 * retrying it) blocks nothing, and neither does a nack under
 * `RETRY_ORDER_SKIP`.
 */
import { effectiveRetryOrder, subscriptionBackoff } from '@braid/backoff';
import { RetryOrder } from '@braid/proto';
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

interface Block {
  /** Offset of the earliest failed record of the key. */
  failedOffset: number;
  /** Offsets released behind it. */
  readonly released: Set<number>;
}

/** See the file comment. */
export class BlockedKeys {
  private readonly blocks = new Map<string, Block>();

  /** Keys held back now. */
  get size(): number {
    return this.blocks.size;
  }

  /**
   * A record failed and will be retried: hold back the later records of its
   * key in its partition. Returns false for a keyless record (nothing to
   * hold back).
   */
  block(record: KeyedRecord): boolean {
    const id = blockId(record);
    if (id === undefined) return false;
    const block = this.blocks.get(id);
    if (block) block.failedOffset = Math.min(block.failedOffset, record.offset);
    else this.blocks.set(id, { failedOffset: record.offset, released: new Set() });
    return true;
  }

  /**
   * Decides for a record about to be queued or processed: true to go ahead,
   * false to hand it back unprocessed (it is then counted as released, and
   * the caller must release it). See the file comment for the rules.
   */
  admit(record: KeyedRecord): boolean {
    const id = blockId(record);
    if (id === undefined) return true;
    const block = this.blocks.get(id);
    if (!block || record.offset < block.failedOffset) return true;
    if (record.offset === block.failedOffset || block.released.has(record.offset)) {
      this.blocks.delete(id);
      return true;
    }
    block.released.add(record.offset);
    return false;
  }

  /** Forgets every block. */
  clear(): void {
    this.blocks.clear();
  }
}

function blockId(record: KeyedRecord): string | undefined {
  return record.key === undefined ? undefined : `${record.partition}:${record.key.toString('base64')}`;
}
