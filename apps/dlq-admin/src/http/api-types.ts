/**
 * The JSON shapes of the web console's HTTP API (`/api/...`), shared by the
 * server (`api-routes.ts`, `json-views.ts`) and the console in the browser
 * (`apps/dlq-admin/console/src`), so both sides are checked against one
 * definition. Types only: this file is compiled for Node and for the
 * browser, so it imports nothing.
 *
 * The shapes follow the `DlqAdminService` messages (same field names in
 * lowerCamelCase) with two differences from the proto's canonical JSON
 * mapping: every field is present (proto3 JSON omits zeros, which makes
 * `dlqOffset: 0` disappear), and bytes come as {@link BytesView} (base64,
 * plus the text when they are valid UTF-8).
 */

/** Bytes as JSON. */
export interface BytesView {
  /** The bytes, base64. */
  base64: string;
  /** The bytes as text when they are valid UTF-8, else null. */
  text: string | null;
  /** Length in bytes. */
  size: number;
}

/** `DeadLetterQueue`. */
export interface QueueView {
  topic: string;
  subscription: string;
  deadLetterTopic: string;
  depth: number;
  oldestAgeMs: number;
  arrivalsLastMinute: number;
}

/** `GET /api/queues`, and each `queues` event of `GET /api/queues/events`. */
export interface QueuesResponse {
  queues: QueueView[];
  /** Server time of the answer (Unix ms). */
  timeMs: number;
}

/** `Attempt`; `disposition` by name without its prefix (`NACK`, `REJECT`, `LEASE_EXPIRED`, ...). */
export interface AttemptView {
  attempt: number;
  timeMs: number;
  memberId: string;
  disposition: string;
  reason: string;
  errorClass: string;
}

/** `Origin`. */
export interface OriginView {
  topic: string;
  partition: number;
  offset: number;
  subscription: string;
  key: BytesView | null;
}

/** `Edit`. */
export interface EditView {
  timeMs: number;
  actor: string;
  previousValue: BytesView;
  previousHeaders: Record<string, string>;
}

/** A record of a list page: the value cut to a preview, the last attempt only. */
export interface RecordSummaryView {
  dlqPartition: number;
  dlqOffset: number;
  origin: OriginView;
  /** The value's first characters (text), or a note about binary bytes. */
  valuePreview: string;
  valueSize: number;
  /** Whether the value is valid UTF-8 text. */
  valueIsText: boolean;
  attemptCount: number;
  lastAttempt: AttemptView | null;
  redriveCount: number;
  deadLetteredAtMs: number;
  publishTimeMs: number;
  editCount: number;
}

/** `DeadLetter`, whole. */
export interface RecordView {
  dlqPartition: number;
  dlqOffset: number;
  origin: OriginView;
  value: BytesView;
  headers: Record<string, string>;
  attempts: AttemptView[];
  redriveCount: number;
  deadLetteredAtMs: number;
  publishTimeMs: number;
  edits: EditView[];
}

/** `GET /api/queues/:topic/:subscription/records`. */
export interface RecordsResponse {
  records: RecordSummaryView[];
  /** Pass as `pageToken` for the next page; empty on the last page. */
  nextPageToken: string;
  /** Records matching the filter, across all pages. */
  totalMatching: number;
}

/** `GET /api/queues/:topic/:subscription/records/:partition/:offset`. */
export interface RecordResponse {
  record: RecordView;
}

/** `DeadLetterRef`. */
export interface RefView {
  dlqPartition: number;
  dlqOffset: number;
}

/**
 * `DeadLetterFilter` in a query string or a JSON body. `key` is the key as
 * UTF-8 text, `keyBase64` any bytes (not both); times are Unix ms.
 */
export interface FilterInput {
  reason?: string;
  errorClass?: string;
  key?: string;
  keyBase64?: string;
  fromTimeMs?: number;
  toTimeMs?: number;
  minAttempts?: number;
  valueContains?: string;
}

/** `DeadLetterSelection`: exactly one of `refs`, `filter` or `all`. */
export type SelectionInput = { refs: RefView[] } | { filter: FilterInput } | { all: true };

/**
 * `POST /api/queues/:topic/:subscription/redrive`. `newValueText` (UTF-8)
 * or `newValue` (base64), not both, edits the value.
 */
export interface RedriveInput {
  selection: SelectionInput;
  dryRun?: boolean;
  recordsPerSecond?: number;
  force?: boolean;
  newValue?: string;
  newValueText?: string;
  newHeaders?: Record<string, string>;
  actor?: string;
  /** Answer with counts only, `refs` empty (a dry run of 100,000 records names ~3.5 MB of refs). */
  omitRefs?: boolean;
}

/**
 * `RedriveResponse`: one line of the `application/x-ndjson` stream, or the
 * whole answer (with every step's `refs`) without streaming.
 */
export interface RedriveProgressView {
  total: number;
  redriven: number;
  skipped: number;
  done: boolean;
  refs: RefView[];
}

/** `POST /api/queues/:topic/:subscription/purge`. Needs a selection, `olderThanMs`, or both. */
export interface PurgeInput {
  selection?: SelectionInput;
  olderThanMs?: number;
  dryRun?: boolean;
  actor?: string;
  /** Answer with the count only, `refs` empty. */
  omitRefs?: boolean;
}

/** `PurgeResponse`. */
export interface PurgeResultView {
  purged: number;
  refs: RefView[];
}

/** `AuditEntry`. */
export interface AuditEntryView {
  id: number;
  timeMs: number;
  actor: string;
  action: string;
  topic: string;
  subscription: string;
  selection: string;
  recordCount: number;
  dryRun: boolean;
  skipped: number;
  outcome: string;
  finishedAtMs: number;
}

/** `GET /api/audit`. */
export interface AuditResponse {
  entries: AuditEntryView[];
  nextPageToken: string;
}

/**
 * An alert rule with where it stands (`AlertState`): `metric` and `status`
 * by name without their prefixes (`DEPTH`, `FIRING`, ...).
 */
export interface AlertRuleView {
  id: string;
  topic: string;
  subscription: string;
  metric: string;
  threshold: number;
  clearThreshold: number;
  forMs: number;
  webhooks: string[];
  description: string;
  createdAtMs: number;
  createdBy: string;
  status: string;
  value: number;
  sinceMs: number;
  checkedAtMs: number;
  firedCount: number;
}

/** `GET /api/alert-rules` (404 when this dlq-admin has no alerts). */
export interface AlertRulesResponse {
  rules: AlertRuleView[];
}

/** What an alert rule watches, by the names {@link AlertRuleView} uses. */
export type AlertMetricName = 'DEPTH' | 'ARRIVALS_PER_MINUTE' | 'OLDEST_AGE_MS';

/**
 * `POST /api/alert-rules` (`CreateAlertRuleRequest`): fires when `metric`
 * is above `threshold` (for `forMs`, default 0), resolves at or below
 * `clearThreshold` (default the threshold). `OLDEST_AGE_MS` counts in ms.
 */
export interface AlertRuleInput {
  topic: string;
  subscription: string;
  metric: AlertMetricName;
  threshold: number;
  clearThreshold?: number;
  forMs?: number;
  /** http(s) URLs notified besides dlq-admin's own `--alert-webhook`s. */
  webhooks?: string[];
  description?: string;
  actor?: string;
}

/** `POST /api/alert-rules` (201): the new rule with where it stands (not checked yet: `UNSPECIFIED`). */
export interface AlertRuleCreatedResponse {
  rule: AlertRuleView;
}

/** `GET /api/info`: what the console needs to know about this dlq-admin. */
export interface InfoResponse {
  /** Whether mutating calls need `Authorization: Bearer <token>`. */
  adminTokenRequired: boolean;
  /** How often `GET /api/queues/events` sends the queues, in ms. */
  liveIntervalMs: number;
}

/**
 * Every error: the HTTP status follows the gRPC code (`http-errors.ts`),
 * `code` is the gRPC code's name, `reason` Braid's condition.
 */
export interface ErrorResponse {
  error: {
    code: string;
    reason: string;
    message: string;
    retriable: boolean;
    retryAfterMs: number;
    /** The offending input, e.g. `query.minAttempts` or `filter.to_time_ms`, when known. */
    field?: string;
    metadata: Record<string, string>;
  };
}
