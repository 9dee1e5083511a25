/**
 * The service layer of dlq-admin: one plain class whose methods mirror the
 * RPCs of `DlqAdminService`, taking and returning the generated proto
 * message types. The gRPC handlers (`grpc-service.ts`) and the web
 * console's HTTP JSON API call this same code; transports only translate.
 *
 * ```ts
 * listQueues(request: ListDeadLetterQueuesRequest): Promise<ListDeadLetterQueuesResponse>
 * listRecords(request: ListDeadLettersRequest): Promise<ListDeadLettersResponse>
 * getRecord(request: GetDeadLetterRequest): Promise<GetDeadLetterResponse>
 * redrive(request: RedriveRequest, context: CallContext, onProgress: RedriveProgressListener, signal?: AbortSignal): Promise<RedriveResponse>
 * purge(request: PurgeRequest, context: CallContext): Promise<PurgeResponse>
 * listAudit(request: ListAuditEntriesRequest): Promise<ListAuditEntriesResponse>
 * audited<T>(context: CallContext, start: AuditStart, run: (entry: AuditEntry) => Promise<AuditedResult<T>>): Promise<T>
 * authorize(context: CallContext): void
 * ```
 *
 * - Mutating methods (`redrive`, `purge`, and `audited` for later ones
 *   such as alert rules) take a `CallContext` carrying what the caller
 *   sent as `authorization`; they check the admin token themselves
 *   (`admin-token.ts`), so no transport can forget to, and write the audit
 *   log. Reads take no context and stay open.
 * - `redrive` calls `onProgress` at least every ~500 ms while it runs
 *   (awaiting a returned promise: stream backpressure) and once more with
 *   `done: true`; it also resolves with that last message. A dry run
 *   reports the refs that would move (in chunks of 10,000) and moves
 *   nothing. `signal` stops a redrive early (the client went away); what
 *   was sent stays redriven.
 * - Errors are `BraidError`s with precise codes: INVALID_ARGUMENT (naming
 *   the field) for bad input, NOT_FOUND for an unknown topic, subscription
 *   or record, FAILED_PRECONDITION when every selected record is at the
 *   redrive limit (without `force`) or a named record is being redriven or
 *   purged by another call, UNAUTHENTICATED without the admin token.
 *
 * Semantics: a redrive sends records to the failing subscription only
 * (`redriver.ts`); records at the redrive limit are skipped (counted in
 * `skipped`) unless `force`. Purge and redrive remove records from the
 * queue view (the overlay in `dlq-store.ts`); the dead-letter topic itself
 * is an ordinary log and is not rewritten.
 */
import {
  FailedPreconditionError,
  NotFoundError,
  ShuttingDownError,
  assertValidName,
  fromGrpcError,
  systemClock,
} from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { defaultDeadLetterTopic } from '@braid/client';
import type { Admin } from '@braid/client';
import type {
  AuditEntry,
  DeadLetter,
  DeadLetterQueue,
  DeadLetterSelection,
  GetDeadLetterRequest,
  GetDeadLetterResponse,
  ListAuditEntriesRequest,
  ListAuditEntriesResponse,
  ListDeadLetterQueuesRequest,
  ListDeadLetterQueuesResponse,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  PurgeRequest,
  PurgeResponse,
  RedriveRequest,
  RedriveResponse,
} from '@braid/proto';
import { AdminTokenGuard } from './admin-token.js';
import type { CallContext } from './admin-token.js';
import type { AuditLog } from './audit-log.js';
import type { AuditOutcome, AuditStart } from './audit-log.js';
import { compileFilter } from './dead-letter-filter.js';
import { dlqAdminDefaults } from './defaults.js';
import type { DlqIndexer } from './dlq-indexer.js';
import type { DlqStore } from './dlq-store.js';
import { QueueIndex } from './queue-index.js';
import type { QueueRegistry } from './queue-registry.js';
import { RecordQuery } from './record-query.js';
import { refId, toRef } from './record-summary.js';
import type { RecordSummary } from './record-summary.js';
import { Redriver } from './redriver.js';
import type { RedriveEdit, RedriveProgressListener } from './redriver.js';
import type { RedriveProducers } from './redrive-producers.js';
import { actorOf, checkPageSize, invalid } from './request-checks.js';

export type { CallContext } from './admin-token.js';
export type { AuditStart } from './audit-log.js';
export type { RedriveProgressListener } from './redriver.js';

/** Options of {@link DlqService}. */
export interface DlqServiceOptions {
  /** Cluster admin client (subscription lookups). */
  admin: Admin;
  store: DlqStore;
  queues: QueueRegistry;
  indexer: DlqIndexer;
  producers: RedriveProducers;
  audit: AuditLog;
  /** The configured admin token; empty: no check. */
  adminToken?: string;
  /** Records redriven this many times are refused unless `force` (default 3). */
  redriveLimit?: number;
  clock?: Clock;
  logger: Logger;
}

/**
 * What an audited call returns: its result (or the error that stopped it
 * part-way) and the record counts for the audit entry.
 */
export type AuditedResult<T> =
  | { result: T; recordCount: number; skipped?: number }
  | { error: unknown; recordCount: number; skipped?: number };

/** Records marked removed per overlay write of a purge. */
const purgeChunkRecords = 10_000;
/** Refs named in an audit entry's selection, at most. */
const describedRefs = 20;

function checkQueueNames(topic: string, subscription: string): void {
  if (topic === '') throw invalid('topic', 'is required');
  if (subscription === '') throw invalid('subscription', 'is required');
  assertValidName('topic', topic);
  assertValidName('subscription', subscription);
}

function checkRef(partition: number, offset: number, field: string): void {
  if (!Number.isInteger(partition) || partition < 0) throw invalid(`${field}.dlq_partition`, `must be a non-negative integer, got ${partition}`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`${field}.dlq_offset`, `must be a non-negative integer, got ${offset}`);
}

/** A resolved selection. */
interface Selected {
  summaries: RecordSummary[];
  /** Records named by ref (their absence or a claim is an error, not a skip). */
  byRef: boolean;
}

/** See the file comment. */
export class DlqService {
  private readonly guard: AdminTokenGuard;
  private readonly query: RecordQuery;
  private readonly redriver: Redriver;
  private readonly redriveLimit: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly options: DlqServiceOptions) {
    this.guard = new AdminTokenGuard(options.adminToken);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ component: 'dlq-service' });
    this.redriveLimit = options.redriveLimit ?? dlqAdminDefaults.redriveLimit;
    this.query = new RecordQuery(options.store);
    this.redriver = new Redriver({ store: options.store, producers: options.producers, clock: this.clock, logger: this.logger });
  }

  /**
   * Throws `UnauthenticatedError` unless `context` carries the admin token
   * (or none is configured). For mutating endpoints built outside this
   * class; `redrive`, `purge` and `audited` call it themselves.
   */
  authorize(context: CallContext): void {
    this.guard.check(context);
  }

  /** Dead-letter queues with depth, oldest record's age and arrivals in the last minute. */
  async listQueues(request: ListDeadLetterQueuesRequest): Promise<ListDeadLetterQueuesResponse> {
    if (request.topic !== '') assertValidName('topic', request.topic);
    if (request.refresh) await this.options.indexer.refresh();
    const now = this.clock.now();
    const queues: DeadLetterQueue[] = this.options.queues
      .list()
      .filter((queue) => request.topic === '' || queue.topic === request.topic)
      .map((queue) => {
        const oldest = queue.oldest();
        return {
          topic: queue.topic,
          subscription: queue.subscription,
          deadLetterTopic: queue.deadLetterTopic,
          depth: queue.depth,
          oldestAgeMs: oldest === undefined ? 0 : Math.max(0, now - oldest.deadLetteredAtMs),
          arrivalsLastMinute: queue.arrivalsSince(now),
        };
      });
    return { queues };
  }

  /** A page of a queue's records matching the filter, oldest first, with the total of matches. */
  async listRecords(request: ListDeadLettersRequest): Promise<ListDeadLettersResponse> {
    checkQueueNames(request.topic, request.subscription);
    const pageSize = checkPageSize(request.pageSize);
    const filter = compileFilter(request.filter);
    const queue = await this.queue(request.topic, request.subscription);
    const page = await this.query.page(queue, filter, pageSize, request.pageToken);
    const letters = await this.options.store.getMany(queue.deadLetterTopic, page.records);
    const records = letters.filter((letter): letter is DeadLetter => letter !== undefined);
    return { records, nextPageToken: page.nextPageToken, totalMatching: page.totalMatching };
  }

  /** One record with its value, headers, origin, attempt ledger and edits. NOT_FOUND unless it is in the queue. */
  async getRecord(request: GetDeadLetterRequest): Promise<GetDeadLetterResponse> {
    checkQueueNames(request.topic, request.subscription);
    checkRef(request.dlqPartition, request.dlqOffset, 'request');
    const queue = await this.queue(request.topic, request.subscription);
    const summary = queue.get(request.dlqPartition, request.dlqOffset);
    const record = summary === undefined ? undefined : await this.options.store.get(queue.deadLetterTopic, summary.partition, summary.offset);
    if (record === undefined) throw this.recordNotFound(queue, [{ partition: request.dlqPartition, offset: request.dlqOffset }]);
    return { record };
  }

  /**
   * Sends the selected records back to the failing subscription only (see
   * the file comment); resolves with the final progress message.
   */
  async redrive(request: RedriveRequest, context: CallContext, onProgress: RedriveProgressListener, signal?: AbortSignal): Promise<RedriveResponse> {
    this.guard.check(context);
    checkQueueNames(request.topic, request.subscription);
    const recordsPerSecond = request.recordsPerSecond;
    if (!Number.isFinite(recordsPerSecond) || recordsPerSecond < 0) {
      throw invalid('records_per_second', `must be a finite number >= 0 (0: unlimited), got ${recordsPerSecond}`);
    }
    this.checkSelectionShape(request.selection, true);
    const edit: RedriveEdit | undefined =
      request.newValue === undefined && Object.keys(request.newHeaders).length === 0
        ? undefined
        : {
            value: request.newValue === undefined ? undefined : Buffer.from(request.newValue),
            headers: Object.keys(request.newHeaders).length === 0 ? undefined : { ...request.newHeaders },
            actor: actorOf(request.actor),
          };
    const options = [
      request.force ? 'force' : '',
      edit?.value !== undefined ? 'edited value' : '',
      edit?.headers !== undefined ? 'edited headers' : '',
      recordsPerSecond > 0 ? `at ${recordsPerSecond}/s` : '',
    ].filter((word) => word !== '');
    return this.track(
      this.audited<RedriveResponse>(
        context,
        {
          actor: request.actor,
          action: 'redrive',
          topic: request.topic,
          subscription: request.subscription,
          selection: [this.describeSelection(request.selection), ...options].join(', '),
          dryRun: request.dryRun,
        },
        async (entry) => {
          // The subscription must exist: it is where the records go.
          await this.describeSubscription(request.topic, request.subscription);
          const queue = await this.queue(request.topic, request.subscription);
          const selected = await this.select(queue, request.selection);
          const atLimit = request.force ? [] : selected.summaries.filter((s) => s.redriveCount >= this.redriveLimit);
          const eligible = atLimit.length === 0 ? selected.summaries : selected.summaries.filter((s) => s.redriveCount < this.redriveLimit);
          if (selected.summaries.length > 0 && eligible.length === 0) {
            throw new FailedPreconditionError(
              `${atLimit.length === 1 ? 'the selected record was' : `all ${atLimit.length} selected records were`} redriven ${this.redriveLimit} times already (the redrive limit); set force to redrive anyway`,
              { metadata: { limit: String(this.redriveLimit), field: 'force' } },
            );
          }
          const total = selected.summaries.length;
          const skipped = total - eligible.length;
          if (request.dryRun) {
            const refs = eligible.map(toRef);
            for (let start = 0; start + dlqAdminDefaults.refsPerMessage < refs.length; start += dlqAdminDefaults.refsPerMessage) {
              await onProgress({ total, redriven: eligible.length, skipped, done: false, refs: refs.slice(start, start + dlqAdminDefaults.refsPerMessage) });
            }
            const tail = refs.length === 0 ? [] : refs.slice(Math.floor((refs.length - 1) / dlqAdminDefaults.refsPerMessage) * dlqAdminDefaults.refsPerMessage);
            const last: RedriveResponse = { total, redriven: eligible.length, skipped, done: true, refs: tail };
            await onProgress(last);
            return { result: last, recordCount: eligible.length, skipped };
          }
          const claimed = this.claim(queue, eligible, selected.byRef);
          const stop = AbortSignal.any([this.shutdown.signal, ...(signal === undefined ? [] : [signal])]);
          const result = await this.redriver.run({
            queue,
            records: claimed,
            skipped: total - claimed.length,
            recordsPerSecond,
            edit,
            auditId: entry.id,
            onProgress,
            signal: stop,
          });
          if (result.error !== undefined) return { error: result.error, recordCount: result.redriven, skipped: total - claimed.length };
          const last: RedriveResponse = { total, redriven: result.redriven, skipped: total - claimed.length, done: true, refs: result.refs };
          await onProgress(last);
          return { result: last, recordCount: result.redriven, skipped: total - claimed.length };
        },
      ),
    );
  }

  /**
   * Removes the selected records (and/or all dead-lettered before
   * `older_than_ms`) from the queue view; a dry run only counts them.
   */
  async purge(request: PurgeRequest, context: CallContext): Promise<PurgeResponse> {
    this.guard.check(context);
    checkQueueNames(request.topic, request.subscription);
    const olderThan = request.olderThanMs;
    if (!Number.isSafeInteger(olderThan) || olderThan < 0) throw invalid('older_than_ms', `must be a non-negative Unix time in ms (0: no bound), got ${olderThan}`);
    if (request.selection?.selection === undefined && olderThan === 0) {
      throw invalid('selection', 'is required (refs, filter or all) unless older_than_ms is set');
    }
    if (request.selection?.selection !== undefined) this.checkSelectionShape(request.selection, false);
    const words = [
      request.selection?.selection === undefined ? 'all' : this.describeSelection(request.selection),
      olderThan > 0 ? `older than ${new Date(olderThan).toISOString()}` : '',
    ].filter((word) => word !== '');
    return this.track(
      this.audited<PurgeResponse>(
        context,
        { actor: request.actor, action: 'purge', topic: request.topic, subscription: request.subscription, selection: words.join(', '), dryRun: request.dryRun },
        async (entry) => {
          const queue = await this.queue(request.topic, request.subscription);
          const selected = request.selection?.selection === undefined
            ? { summaries: [...queue.live()], byRef: false }
            : await this.select(queue, request.selection);
          const chosen = olderThan > 0 ? selected.summaries.filter((s) => s.deadLetteredAtMs < olderThan) : selected.summaries;
          if (request.dryRun) return { result: { purged: chosen.length, refs: chosen.map(toRef) }, recordCount: chosen.length };
          const claimed = this.claim(queue, chosen, selected.byRef);
          try {
            for (let start = 0; start < claimed.length; start += purgeChunkRecords) {
              const chunk = claimed.slice(start, start + purgeChunkRecords);
              await this.options.store.markRemoved(queue.deadLetterTopic, chunk, { how: 'purged', timeMs: this.clock.now(), auditId: entry.id });
              queue.remove(chunk);
            }
          } finally {
            queue.release(claimed);
          }
          return { result: { purged: claimed.length, refs: claimed.map(toRef) }, recordCount: claimed.length };
        },
      ),
    );
  }

  /** A page of the audit log, newest first. */
  listAudit(request: ListAuditEntriesRequest): Promise<ListAuditEntriesResponse> {
    if (request.topic !== '') assertValidName('topic', request.topic);
    if (request.subscription !== '') assertValidName('subscription', request.subscription);
    return this.options.audit.list(request);
  }

  /**
   * Runs a mutating call under the admin token and the audit log: checks
   * `context`, writes the entry (outcome "running"), runs `run`, and
   * rewrites the entry with the record counts and the outcome ("ok" or
   * "failed: ..."). For later mutating endpoints (alert rules) too.
   */
  async audited<T>(context: CallContext, start: AuditStart, run: (entry: AuditEntry) => Promise<AuditedResult<T>>): Promise<T> {
    this.guard.check(context);
    const entry = await this.options.audit.begin(start);
    let outcome: AuditedResult<T>;
    try {
      outcome = await run(entry);
    } catch (error) {
      await this.finishFailed(entry, { recordCount: 0, error });
      throw error;
    }
    if ('error' in outcome) {
      await this.finishFailed(entry, { recordCount: outcome.recordCount, skipped: outcome.skipped ?? 0, error: outcome.error });
      throw fromGrpcError(outcome.error);
    }
    await this.options.audit.finish(entry, { recordCount: outcome.recordCount, skipped: outcome.skipped ?? 0 });
    return outcome.result;
  }

  /**
   * Rewrites the entry of a failed call; a failure to do so is logged, not
   * thrown, so the call's own error reaches the caller.
   */
  private async finishFailed(entry: AuditEntry, outcome: AuditOutcome): Promise<void> {
    try {
      await this.options.audit.finish(entry, outcome);
    } catch (err) {
      this.logger.error({ err, auditId: entry.id }, 'could not record the outcome of a failed call in the audit log');
    }
  }

  /** Stops running redrives (what was sent stays redriven) and waits for running calls. */
  async close(): Promise<void> {
    this.shutdown.abort(new ShuttingDownError('dlq-admin'));
    await Promise.allSettled([...this.running]);
  }

  private async track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    try {
      return await promise;
    } finally {
      this.running.delete(promise);
    }
  }

  /**
   * The queue of `subscription` on `topic`. A subscription whose
   * dead-letter topic does not exist yet has an empty queue; an unknown
   * one is NOT_FOUND (topic or subscription, as the cluster says).
   */
  private async queue(topic: string, subscription: string): Promise<QueueIndex> {
    const known = this.options.queues.get(topic, subscription);
    if (known !== undefined) return known;
    const discovered = this.options.indexer.subscriptions.find((s) => s.topic === topic && s.subscription === subscription);
    const deadLetterTopic = discovered?.deadLetterTopic ?? (await this.describeSubscription(topic, subscription));
    return new QueueIndex(topic, subscription, deadLetterTopic);
  }

  /** The subscription's dead-letter topic; NOT_FOUND from the cluster when it does not exist. */
  private async describeSubscription(topic: string, subscription: string): Promise<string> {
    const described = await this.options.admin.describeSubscription(topic, subscription);
    return described.subscription?.config?.deadLetterTopic || defaultDeadLetterTopic(topic, subscription);
  }

  private checkSelectionShape(selection: DeadLetterSelection | undefined, required: boolean): void {
    const choice = selection?.selection;
    if (choice === undefined) {
      if (required) throw invalid('selection', 'is required: refs, filter or all');
      return;
    }
    switch (choice.$case) {
      case 'refs':
        if (choice.value.refs.length === 0) throw invalid('selection.refs', 'must name at least one record');
        choice.value.refs.forEach((ref, index) => { checkRef(ref.dlqPartition, ref.dlqOffset, `selection.refs[${index}]`); });
        return;
      case 'filter':
        compileFilter(choice.value, 'selection.filter');
        return;
      case 'all':
        if (!choice.value) throw invalid('selection.all', 'must be true when set');
        return;
    }
  }

  private describeSelection(selection: DeadLetterSelection | undefined): string {
    const choice = selection?.selection;
    if (choice === undefined) return 'all';
    switch (choice.$case) {
      case 'refs': {
        const named = choice.value.refs.slice(0, describedRefs).map((r) => refId(r.dlqPartition, r.dlqOffset));
        const more = choice.value.refs.length > describedRefs ? ` (+${choice.value.refs.length - describedRefs} more)` : '';
        return `refs ${named.join(',')}${more}`;
      }
      case 'filter':
        return `filter ${compileFilter(choice.value, 'selection.filter').description}`;
      case 'all':
        return 'all';
    }
  }

  /** The records a (shape-checked) selection picks; refs that are not in the queue are NOT_FOUND. */
  private async select(queue: QueueIndex, selection: DeadLetterSelection | undefined): Promise<Selected> {
    const choice = selection?.selection;
    if (choice === undefined || choice.$case === 'all') return { summaries: [...queue.live()], byRef: false };
    if (choice.$case === 'filter') {
      const filter = compileFilter(choice.value, 'selection.filter');
      return { summaries: await this.query.matches(queue, filter), byRef: false };
    }
    const seen = new Set<string>();
    const summaries: RecordSummary[] = [];
    const missing: { partition: number; offset: number }[] = [];
    for (const ref of choice.value.refs) {
      const id = refId(ref.dlqPartition, ref.dlqOffset);
      if (seen.has(id)) continue;
      seen.add(id);
      const summary = queue.get(ref.dlqPartition, ref.dlqOffset);
      if (summary === undefined) missing.push({ partition: ref.dlqPartition, offset: ref.dlqOffset });
      else summaries.push(summary);
    }
    if (missing.length > 0) throw this.recordNotFound(queue, missing);
    return { summaries, byRef: true };
  }

  /**
   * Claims `summaries` for this call. Records named by ref that another
   * call holds are FAILED_PRECONDITION; from a filter or "all", they are
   * left to the call that holds them.
   */
  private claim(queue: QueueIndex, summaries: RecordSummary[], byRef: boolean): RecordSummary[] {
    if (byRef) {
      const busy = summaries.filter((s) => queue.isClaimed(s.partition, s.offset));
      if (busy.length > 0) {
        throw new FailedPreconditionError(
          `records ${busy.slice(0, describedRefs).map((s) => refId(s.partition, s.offset)).join(', ')} are being redriven or purged by another call`,
        );
      }
    }
    return queue.claim(summaries);
  }

  private recordNotFound(queue: QueueIndex, refs: { partition: number; offset: number }[]): NotFoundError {
    const named = refs.slice(0, describedRefs).map((r) => refId(r.partition, r.offset)).join(', ');
    return new NotFoundError(
      `${refs.length === 1 ? 'record' : `${refs.length} records`} ${named}${refs.length > describedRefs ? ', ...' : ''} not in the dead-letter queue of subscription "${queue.subscription}" on topic "${queue.topic}" (never there, purged or redriven)`,
      { metadata: { topic: queue.topic, subscription: queue.subscription, deadLetterTopic: queue.deadLetterTopic } },
    );
  }
}
