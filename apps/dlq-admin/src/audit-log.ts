/**
 * The audit log: every mutating call (redrive, purge; later alert-rule
 * changes) as an `AuditEntry`, written durably (synced) when the call
 * starts, and rewritten with its outcome when it ends, so a call cut short
 * by a crash still shows, as "running". Listed newest first.
 */
import type { Clock } from '@braid/core';
import type { AuditEntry, ListAuditEntriesRequest, ListAuditEntriesResponse } from '@braid/proto';
import type { DlqStore } from './dlq-store.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { actorOf, checkPageSize } from './request-checks.js';

/** What a mutating call is about. */
export interface AuditStart {
  /** The request's `actor`; empty: "anonymous". */
  actor: string;
  /** "redrive", "purge", ... */
  action: string;
  topic: string;
  subscription: string;
  /** The selection in words. */
  selection: string;
  dryRun: boolean;
}

/** How a call ended. */
export interface AuditOutcome {
  recordCount: number;
  skipped?: number;
  /** Undefined: "ok". */
  error?: unknown;
}

export { anonymousActor } from './request-checks.js';

/** See the file comment. */
export class AuditLog {
  private constructor(
    private readonly store: DlqStore,
    private readonly clock: Clock,
    private lastId: number,
  ) {}

  /** Opens the log kept in `store`. */
  static async open(store: DlqStore, clock: Clock): Promise<AuditLog> {
    return new AuditLog(store, clock, await store.lastAuditId());
  }

  /** Writes the entry of a call that starts now. */
  async begin(start: AuditStart): Promise<AuditEntry> {
    const entry: AuditEntry = {
      id: ++this.lastId,
      timeMs: this.clock.now(),
      actor: actorOf(start.actor),
      action: start.action,
      topic: start.topic,
      subscription: start.subscription,
      selection: start.selection,
      recordCount: 0,
      dryRun: start.dryRun,
      skipped: 0,
      outcome: 'running',
      finishedAtMs: 0,
    };
    await this.store.putAudit(entry);
    return entry;
  }

  /** Rewrites `entry` with how its call ended. */
  async finish(entry: AuditEntry, outcome: AuditOutcome): Promise<AuditEntry> {
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    const finished: AuditEntry = {
      ...entry,
      recordCount: outcome.recordCount,
      skipped: outcome.skipped ?? 0,
      outcome: outcome.error === undefined ? 'ok' : `failed: ${message}`,
      finishedAtMs: this.clock.now(),
    };
    await this.store.putAudit(finished);
    return finished;
  }

  /** A page of entries, newest first. */
  async list(request: ListAuditEntriesRequest): Promise<ListAuditEntriesResponse> {
    const pageSize = checkPageSize(request.pageSize);
    const fingerprint = `audit/${request.topic}/${request.subscription}/${request.action}`;
    const beforeId = request.pageToken === '' ? undefined : decodePageToken(request.pageToken, fingerprint, 1)[0];
    const entries: AuditEntry[] = [];
    let more = false;
    for await (const entry of this.store.audit(beforeId)) {
      if (request.topic !== '' && entry.topic !== request.topic) continue;
      if (request.subscription !== '' && entry.subscription !== request.subscription) continue;
      if (request.action !== '' && entry.action !== request.action) continue;
      if (entries.length === pageSize) {
        more = true;
        break;
      }
      entries.push(entry);
    }
    const last = entries[entries.length - 1];
    return { entries, nextPageToken: more && last !== undefined ? encodePageToken(fingerprint, [last.id]) : '' };
  }
}
