/**
 * Input of the HTTP API: zod schemas for path parameters, query strings and
 * JSON bodies (unknown fields are refused, so a typo is an error rather
 * than a silently ignored filter), and their translation into the
 * `DlqAdminService` request messages that `DlqService` takes. Bad input is
 * an `InvalidArgumentError` naming the field (`query.minAttempts`,
 * `body.selection`), which `http-errors.ts` turns into 400. What only the
 * service can judge (name rules, page tokens, time ranges, the page size
 * limit) is left to it, so HTTP and gRPC answer alike.
 */
import { InvalidArgumentError } from '@braid/core';
import { AlertMetric } from '@braid/proto';
import type {
  CreateAlertRuleRequest,
  DeadLetterFilter,
  DeleteAlertRuleRequest,
  DeadLetterSelection,
  GetDeadLetterRequest,
  ListAuditEntriesRequest,
  ListDeadLetterQueuesRequest,
  ListDeadLettersRequest,
  PurgeRequest,
  RedriveRequest,
} from '@braid/proto';
import { z } from 'zod';
import type { AlertMetricName, FilterInput, SelectionInput } from './api-types.js';

/** Longest text accepted in a filter field or an actor name. */
const maxTextLength = 1024;

/** A query parameter left empty (`?reason=`) counts as absent: what an HTML form sends for a blank field. */
const blankAsAbsent = (value: unknown): unknown => (value === '' ? undefined : value);

const text = z.string().max(maxTextLength);
const unixMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(0).max(2_147_483_647);
const queryText = z.preprocess(blankAsAbsent, text.optional());
const queryUnixMs = z.preprocess(blankAsAbsent, z.coerce.number().pipe(unixMs).optional());
const queryCount = z.preprocess(blankAsAbsent, z.coerce.number().pipe(count).optional());
const queryBool = z.preprocess(blankAsAbsent, z.stringbool().optional());

const filterFields = {
  reason: text.optional(),
  errorClass: text.optional(),
  key: z.string().max(4096).optional(),
  keyBase64: z.base64().max(8192).optional(),
  fromTimeMs: unixMs.optional(),
  toTimeMs: unixMs.optional(),
  minAttempts: count.optional(),
  valueContains: text.optional(),
};

const notBothKeys = (filter: { key?: string | undefined; keyBase64?: string | undefined }): boolean =>
  filter.key === undefined || filter.keyBase64 === undefined;
const notBothKeysMessage = { message: 'give key (text) or keyBase64, not both', path: ['keyBase64'] };

const filterBody = z.strictObject(filterFields).refine(notBothKeys, notBothKeysMessage);

/** `/api/queues/:topic/:subscription/...` */
export const queueParams = z.object({ topic: z.string(), subscription: z.string() });

/** `/api/queues/:topic/:subscription/records/:partition/:offset` */
export const recordParams = queueParams.extend({
  partition: z.coerce.number().pipe(count),
  offset: z.coerce.number().pipe(unixMs),
});

/** `GET /api/queues?topic=&refresh=` */
export const queuesQuery = z.strictObject({ topic: queryText, refresh: queryBool });

/** `GET .../records?<filter>&pageSize=&pageToken=` */
export const recordsQuery = z
  .strictObject({
    reason: queryText,
    errorClass: queryText,
    key: z.preprocess(blankAsAbsent, z.string().max(4096).optional()),
    keyBase64: z.preprocess(blankAsAbsent, z.base64().max(8192).optional()),
    fromTimeMs: queryUnixMs,
    toTimeMs: queryUnixMs,
    minAttempts: queryCount,
    valueContains: queryText,
    pageSize: queryCount,
    pageToken: z.preprocess(blankAsAbsent, z.string().max(4096).optional()),
  })
  .refine(notBothKeys, notBothKeysMessage);

/** `GET /api/audit?topic=&subscription=&action=&pageSize=&pageToken=` */
export const auditQuery = z.strictObject({
  topic: queryText,
  subscription: queryText,
  action: queryText,
  pageSize: queryCount,
  pageToken: z.preprocess(blankAsAbsent, z.string().max(4096).optional()),
});

/** `GET /api/alert-rules?topic=&subscription=` */
export const alertRulesQuery = z.strictObject({ topic: queryText, subscription: queryText });

/** The metric names of the API (`AlertRuleView.metric`) and the proto enum values. */
const alertMetrics = {
  DEPTH: AlertMetric.ALERT_METRIC_DEPTH,
  ARRIVALS_PER_MINUTE: AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE,
  OLDEST_AGE_MS: AlertMetric.ALERT_METRIC_OLDEST_AGE_MS,
} as const satisfies Record<AlertMetricName, AlertMetric>;

const alertMetricNames = Object.keys(alertMetrics) as [AlertMetricName, ...AlertMetricName[]];

/**
 * `POST /api/alert-rules`. Name rules, webhook URLs and their number,
 * `clearThreshold <= threshold` and the description's length are the
 * service's to judge (as over gRPC); here only shapes and types.
 */
export const alertRuleBody = z.strictObject({
  topic: z.string().min(1, 'is required').max(maxTextLength),
  subscription: z.string().min(1, 'is required').max(maxTextLength),
  metric: z.enum(alertMetricNames, { error: `must be one of ${alertMetricNames.join(', ')}` }),
  threshold: unixMs,
  clearThreshold: unixMs.optional(),
  forMs: unixMs.optional(),
  webhooks: z.array(z.string().max(4096)).max(100).optional(),
  description: z.string().max(4096).optional(),
  actor: text.optional(),
});

/** `DELETE /api/alert-rules/:id` */
export const alertRuleParams = z.object({ id: z.string().min(1).max(256) });

/** `DELETE /api/alert-rules/:id?actor=` (a DELETE carries no body). */
export const deleteAlertRuleQuery = z.strictObject({ actor: queryText });

const refBody = z.strictObject({ dlqPartition: count, dlqOffset: unixMs });

const selectionBody = z.union(
  [
    z.strictObject({ refs: z.array(refBody).min(1).max(100_000) }),
    z.strictObject({ filter: filterBody }),
    z.strictObject({ all: z.literal(true) }),
  ],
  { error: 'must be one of {"refs": [{"dlqPartition", "dlqOffset"}, ...]}, {"filter": {...}} or {"all": true}' },
);

/** `POST .../redrive` */
export const redriveBody = z
  .strictObject({
    selection: selectionBody,
    dryRun: z.boolean().optional(),
    recordsPerSecond: z.number().min(0).max(1_000_000_000).optional(),
    force: z.boolean().optional(),
    newValue: z.base64().optional(),
    newValueText: z.string().optional(),
    newHeaders: z.record(z.string().max(maxTextLength), z.string().max(64 * 1024)).optional(),
    actor: text.optional(),
    omitRefs: z.boolean().optional(),
  })
  .refine((body) => body.newValue === undefined || body.newValueText === undefined, {
    message: 'give newValueText (UTF-8) or newValue (base64), not both',
    path: ['newValue'],
  });

/** `POST .../purge` */
export const purgeBody = z.strictObject({
  selection: selectionBody.optional(),
  olderThanMs: unixMs.optional(),
  dryRun: z.boolean().optional(),
  actor: text.optional(),
  omitRefs: z.boolean().optional(),
});

/**
 * Parses `value` with `schema`; bad input becomes an `InvalidArgumentError`
 * naming the first offending field as `<where>.<path>`.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'query' | 'body' | 'path'): z.infer<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const keys = issue?.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [where, ...(issue?.path ?? []).map(String), ...(keys.length === 1 ? keys : [])].join('.');
  const message = value === undefined && where === 'body' ? 'a JSON body is required' : (issue?.message ?? 'is invalid');
  return throwInvalid(path, message);
}

function throwInvalid(field: string, message: string): never {
  throw new InvalidArgumentError(`${field}: ${message}`, { metadata: { field } });
}

/** `FilterInput` -> `DeadLetterFilter` (unset fields do not filter). */
export function filterFromInput(input: FilterInput): DeadLetterFilter {
  const key =
    input.key !== undefined ? Buffer.from(input.key, 'utf8') : input.keyBase64 !== undefined ? Buffer.from(input.keyBase64, 'base64') : undefined;
  return {
    reason: input.reason ?? '',
    errorClass: input.errorClass ?? '',
    key,
    fromTimeMs: input.fromTimeMs ?? 0,
    toTimeMs: input.toTimeMs ?? 0,
    minAttempts: input.minAttempts ?? 0,
    valueContains: input.valueContains ?? '',
  };
}

/** `SelectionInput` -> `DeadLetterSelection`. */
export function selectionFromInput(input: SelectionInput): DeadLetterSelection {
  if ('refs' in input) return { selection: { $case: 'refs', value: { refs: input.refs.map((r) => ({ dlqPartition: r.dlqPartition, dlqOffset: r.dlqOffset })) } } };
  if ('filter' in input) return { selection: { $case: 'filter', value: filterFromInput(input.filter) } };
  return { selection: { $case: 'all', value: true } };
}

type Params = z.infer<typeof queueParams>;

export function listQueuesRequest(query: z.infer<typeof queuesQuery>): ListDeadLetterQueuesRequest {
  return { topic: query.topic ?? '', refresh: query.refresh ?? false };
}

export function listRecordsRequest(params: Params, query: z.infer<typeof recordsQuery>): ListDeadLettersRequest {
  const { pageSize, pageToken, ...filter } = query;
  return { ...params, filter: filterFromInput(filter), pageSize: pageSize ?? 0, pageToken: pageToken ?? '' };
}

export function getRecordRequest(params: z.infer<typeof recordParams>): GetDeadLetterRequest {
  return { topic: params.topic, subscription: params.subscription, dlqPartition: params.partition, dlqOffset: params.offset };
}

export function listAuditRequest(query: z.infer<typeof auditQuery>): ListAuditEntriesRequest {
  return { topic: query.topic ?? '', subscription: query.subscription ?? '', action: query.action ?? '', pageSize: query.pageSize ?? 0, pageToken: query.pageToken ?? '' };
}

/** The console's audit name when the body names none. */
export const defaultActor = 'console';

export function redriveRequest(params: Params, body: z.infer<typeof redriveBody>): RedriveRequest {
  const newValue =
    body.newValueText !== undefined ? Buffer.from(body.newValueText, 'utf8') : body.newValue !== undefined ? Buffer.from(body.newValue, 'base64') : undefined;
  return {
    ...params,
    selection: selectionFromInput(body.selection),
    dryRun: body.dryRun ?? false,
    recordsPerSecond: body.recordsPerSecond ?? 0,
    force: body.force ?? false,
    newValue,
    newHeaders: { ...body.newHeaders },
    actor: body.actor ?? defaultActor,
  };
}

export function purgeRequest(params: Params, body: z.infer<typeof purgeBody>): PurgeRequest {
  return {
    ...params,
    selection: body.selection === undefined ? undefined : selectionFromInput(body.selection),
    olderThanMs: body.olderThanMs ?? 0,
    dryRun: body.dryRun ?? false,
    actor: body.actor ?? defaultActor,
  };
}

export function createAlertRuleRequest(body: z.infer<typeof alertRuleBody>): CreateAlertRuleRequest {
  return {
    topic: body.topic,
    subscription: body.subscription,
    metric: alertMetrics[body.metric],
    threshold: body.threshold,
    clearThreshold: body.clearThreshold,
    forMs: body.forMs ?? 0,
    webhooks: [...(body.webhooks ?? [])],
    description: body.description ?? '',
    actor: body.actor ?? defaultActor,
  };
}

export function deleteAlertRuleRequest(params: z.infer<typeof alertRuleParams>, query: z.infer<typeof deleteAlertRuleQuery>): DeleteAlertRuleRequest {
  return { id: params.id, actor: query.actor ?? defaultActor };
}
