/**
 * Filtering and paging of one queue's records, server-side. Summary
 * filters run over the in-memory index; "text in the value" reads values
 * from the local store (a point read per candidate when few are left, one
 * range scan otherwise). Results are cached per queue and filter against
 * the queue's `version` (unique across queues, so a queue recreated under
 * the same names cannot hit its predecessor's results), so paging through
 * 100,000 records filters once.
 */
import { dlqAdminDefaults } from './defaults.js';
import type { CompiledFilter } from './dead-letter-filter.js';
import type { DlqStore } from './dlq-store.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import type { QueueIndex } from './queue-index.js';
import { refId } from './record-summary.js';
import type { RecordSummary } from './record-summary.js';

/** Candidates up to which the value filter reads records one by one instead of scanning the topic's values. */
const pointReadLimit = 2000;

/** A page of matches. */
export interface RecordPage {
  /** The page, oldest first. */
  records: RecordSummary[];
  /** Token of the next page; empty on the last. */
  nextPageToken: string;
  /** Matches across all pages. */
  totalMatching: number;
}

interface CachedResult {
  version: number;
  matches: RecordSummary[];
}

/** See the file comment. */
export class RecordQuery {
  private readonly cache = new Map<string, CachedResult>();

  constructor(
    private readonly store: DlqStore,
    private readonly cacheSize: number = dlqAdminDefaults.cachedQueries,
  ) {}

  /** Every record of `queue` matching `filter`, oldest first. */
  async matches(queue: QueueIndex, filter: CompiledFilter): Promise<RecordSummary[]> {
    const cacheKey = `${queue.topic}\u0000${queue.subscription}\u0000${filter.fingerprint}`;
    const cached = this.cache.get(cacheKey);
    if (cached?.version === queue.version) {
      // Refresh its place in the LRU order.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached.matches;
    }
    const version = queue.version;
    const candidates: RecordSummary[] = [];
    for (const summary of queue.snapshot()) if (!summary.removed && filter.matches(summary)) candidates.push(summary);
    const matches = filter.valueNeedle === undefined ? candidates : await this.withValue(queue, candidates, filter.valueNeedle);
    // A change while the values were read makes this result stale already: keep it uncached and drop what was removed meanwhile.
    if (queue.version !== version) return matches.filter((s) => !s.removed);
    this.cache.set(cacheKey, { version, matches });
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    // Unchanged since the snapshot: no match was removed (every removal moves the version).
    return matches;
  }

  /**
   * The page of `queue`'s matches after `pageToken` (empty: the first).
   * The token is tied to the queue and the filter.
   */
  async page(queue: QueueIndex, filter: CompiledFilter, pageSize: number, pageToken: string): Promise<RecordPage> {
    const matches = await this.matches(queue, filter);
    const fingerprint = `${queue.topic}/${queue.subscription}/${filter.fingerprint}`;
    let start = 0;
    if (pageToken !== '') {
      const [deadLetteredAtMs = 0, partition = 0, offset = 0] = decodePageToken(pageToken, fingerprint, 3);
      start = queue.firstAfter({ deadLetteredAtMs, partition, offset }, matches);
    }
    const records = matches.slice(start, start + pageSize);
    const last = records[records.length - 1];
    const more = start + pageSize < matches.length;
    return {
      records,
      nextPageToken: more && last !== undefined ? encodePageToken(fingerprint, [last.deadLetteredAtMs, last.partition, last.offset]) : '',
      totalMatching: matches.length,
    };
  }

  private async withValue(queue: QueueIndex, candidates: RecordSummary[], needle: Buffer): Promise<RecordSummary[]> {
    if (candidates.length === 0) return [];
    const hits = new Set<string>();
    if (candidates.length <= pointReadLimit) {
      const letters = await this.store.getMany(queue.deadLetterTopic, candidates);
      for (const [index, letter] of letters.entries()) {
        const summary = candidates[index];
        if (letter !== undefined && summary !== undefined && letter.value.includes(needle)) hits.add(refId(summary.partition, summary.offset));
      }
    } else {
      for await (const { partition, offset, value } of this.store.values(queue.deadLetterTopic)) {
        if (value.includes(needle)) hits.add(refId(partition, offset));
      }
    }
    return candidates.filter((s) => hits.has(refId(s.partition, s.offset)));
  }
}
