/**
 * `DlqAdminService` messages -> the HTTP API's JSON shapes (`api-types.ts`):
 * every field present, bytes as base64 plus their UTF-8 text when valid,
 * dispositions by name. List pages carry a value preview instead of the
 * whole value, so a page of 50 large records stays small in the browser.
 */
import { TextDecoder } from 'node:util';
import { AlertMetric, alertMetricToJSON, alertStatusToJSON, dispositionToJSON } from '@braid/proto';
import type {
  AlertState,
  Attempt,
  AuditEntry,
  DeadLetter,
  DeadLetterQueue,
  DeadLetterRef,
  Edit,
  Origin,
  PurgeResponse,
  RedriveResponse,
} from '@braid/proto';
import type {
  AlertRuleView,
  AttemptView,
  AuditEntryView,
  BytesView,
  EditView,
  OriginView,
  PurgeResultView,
  QueueView,
  RecordSummaryView,
  RecordView,
  RedriveProgressView,
  RefView,
} from './api-types.js';

/** Characters of a value shown in a list row, at most. */
export const valuePreviewChars = 160;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text if they are valid UTF-8, else null. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // Not UTF-8: the caller shows base64 instead.
    return null;
  }
}

/** Bytes as JSON. */
export function bytesView(bytes: Uint8Array): BytesView {
  return { base64: Buffer.from(bytes).toString('base64'), text: utf8OrNull(bytes), size: bytes.length };
}

/** A disposition's name without the `DISPOSITION_` prefix. */
export function dispositionName(attempt: Attempt): string {
  return dispositionToJSON(attempt.disposition).replace(/^DISPOSITION_/, '');
}

export function queueView(queue: DeadLetterQueue): QueueView {
  return {
    topic: queue.topic,
    subscription: queue.subscription,
    deadLetterTopic: queue.deadLetterTopic,
    depth: queue.depth,
    oldestAgeMs: queue.oldestAgeMs,
    arrivalsLastMinute: queue.arrivalsLastMinute,
  };
}

export function attemptView(attempt: Attempt): AttemptView {
  return {
    attempt: attempt.attempt,
    timeMs: attempt.timeMs,
    memberId: attempt.memberId,
    disposition: dispositionName(attempt),
    reason: attempt.reason,
    errorClass: attempt.errorClass,
  };
}

export function originView(origin: Origin | undefined): OriginView {
  return {
    topic: origin?.topic ?? '',
    partition: origin?.partition ?? 0,
    offset: origin?.offset ?? 0,
    subscription: origin?.subscription ?? '',
    key: origin?.key === undefined ? null : bytesView(origin.key),
  };
}

export function editView(edit: Edit): EditView {
  return { timeMs: edit.timeMs, actor: edit.actor, previousValue: bytesView(edit.previousValue), previousHeaders: { ...edit.previousHeaders } };
}

/** A whole record. */
export function recordView(record: DeadLetter): RecordView {
  return {
    dlqPartition: record.dlqPartition,
    dlqOffset: record.dlqOffset,
    origin: originView(record.origin),
    value: bytesView(record.value),
    headers: { ...record.headers },
    attempts: record.attempts.map(attemptView),
    redriveCount: record.redriveCount,
    deadLetteredAtMs: record.deadLetteredAtMs,
    publishTimeMs: record.publishTimeMs,
    edits: record.edits.map(editView),
  };
}

/** A list row: the value cut to {@link valuePreviewChars} characters, the last attempt only. */
export function recordSummaryView(record: DeadLetter): RecordSummaryView {
  const text = utf8OrNull(record.value);
  const preview =
    text === null
      ? `(${record.value.length} bytes, not UTF-8)`
      : text.length > valuePreviewChars
        ? `${text.slice(0, valuePreviewChars)}…`
        : text;
  const last = record.attempts.at(-1);
  return {
    dlqPartition: record.dlqPartition,
    dlqOffset: record.dlqOffset,
    origin: originView(record.origin),
    valuePreview: preview,
    valueSize: record.value.length,
    valueIsText: text !== null,
    attemptCount: record.attempts.length,
    lastAttempt: last === undefined ? null : attemptView(last),
    redriveCount: record.redriveCount,
    deadLetteredAtMs: record.deadLetteredAtMs,
    publishTimeMs: record.publishTimeMs,
    editCount: record.edits.length,
  };
}

export function refView(ref: DeadLetterRef): RefView {
  return { dlqPartition: ref.dlqPartition, dlqOffset: ref.dlqOffset };
}

export function redriveProgressView(progress: RedriveResponse): RedriveProgressView {
  return { total: progress.total, redriven: progress.redriven, skipped: progress.skipped, done: progress.done, refs: progress.refs.map(refView) };
}

export function purgeResultView(result: PurgeResponse): PurgeResultView {
  return { purged: result.purged, refs: result.refs.map(refView) };
}

export function auditEntryView(entry: AuditEntry): AuditEntryView {
  return {
    id: entry.id,
    timeMs: entry.timeMs,
    actor: entry.actor,
    action: entry.action,
    topic: entry.topic,
    subscription: entry.subscription,
    selection: entry.selection,
    recordCount: entry.recordCount,
    dryRun: entry.dryRun,
    skipped: entry.skipped,
    outcome: entry.outcome,
    finishedAtMs: entry.finishedAtMs,
  };
}

/** An alert rule with its state. */
export function alertRuleView(state: AlertState): AlertRuleView {
  const rule = state.rule;
  return {
    id: rule?.id ?? '',
    topic: rule?.topic ?? '',
    subscription: rule?.subscription ?? '',
    metric: alertMetricToJSON(rule?.metric ?? AlertMetric.ALERT_METRIC_UNSPECIFIED).replace(/^ALERT_METRIC_/, ''),
    threshold: rule?.threshold ?? 0,
    clearThreshold: rule?.clearThreshold ?? 0,
    forMs: rule?.forMs ?? 0,
    webhooks: [...(rule?.webhooks ?? [])],
    description: rule?.description ?? '',
    createdAtMs: rule?.createdAtMs ?? 0,
    createdBy: rule?.createdBy ?? '',
    status: alertStatusToJSON(state.status).replace(/^ALERT_STATUS_/, ''),
    value: state.value,
    sinceMs: state.sinceMs,
    checkedAtMs: state.checkedAtMs,
    firedCount: state.firedCount,
  };
}
