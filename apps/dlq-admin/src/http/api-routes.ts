/**
 * The console's JSON API under `/api`: each route validates its input
 * (`api-schemas.ts`), calls the same `DlqService` method as the gRPC
 * handler, and answers with the shapes of `api-types.ts`. Mutating routes
 * pass the `Authorization` header on as the `CallContext`, and the service
 * checks the admin token itself, so HTTP cannot skip the check gRPC makes.
 *
 * | route | service call |
 * |---|---|
 * | `GET /api/info` | (the token requirement, the live interval) |
 * | `GET /api/queues?topic=&refresh=` | `listQueues` |
 * | `GET /api/queues/events` | `listQueues` every `liveIntervalMs`, as Server-Sent Events |
 * | `GET /api/queues/:topic/:subscription/records?<filter>&pageSize=&pageToken=` | `listRecords` |
 * | `GET /api/queues/:topic/:subscription/records/:partition/:offset` | `getRecord` |
 * | `POST /api/queues/:topic/:subscription/redrive` | `redrive` (NDJSON progress with `Accept: application/x-ndjson`) |
 * | `POST /api/queues/:topic/:subscription/purge` | `purge` |
 * | `GET /api/audit?topic=&subscription=&action=&pageSize=&pageToken=` | `listAudit` |
 * | `POST /api/auth/check` | `authorize` (204 when the token is right or none is needed) |
 * | `GET /api/alert-rules?topic=&subscription=` | `AlertService.listStates` (only when alerts are given; else 404) |
 * | `POST /api/alert-rules` | `AlertService.createRule` (201 with the rule and its state) |
 * | `DELETE /api/alert-rules/:id?actor=` | `AlertService.deleteRule` (204) |
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CancelledError, InternalError } from '@braid/core';
import type { Logger } from '@braid/core';
import { AlertStatus } from '@braid/proto';
import type { AlertRule, AlertState, RedriveResponse } from '@braid/proto';
import type { CallContext } from '../admin-token.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { DlqService } from '../dlq-service.js';
import {
  alertRuleBody,
  alertRuleParams,
  alertRulesQuery,
  auditQuery,
  createAlertRuleRequest,
  deleteAlertRuleQuery,
  deleteAlertRuleRequest,
  getRecordRequest,
  listAuditRequest,
  listQueuesRequest,
  listRecordsRequest,
  parseInput,
  purgeBody,
  purgeRequest,
  queueParams,
  queuesQuery,
  recordParams,
  recordsQuery,
  redriveBody,
  redriveRequest,
} from './api-schemas.js';
import type {
  AlertRuleCreatedResponse,
  AlertRulesResponse,
  AuditResponse,
  InfoResponse,
  PurgeResultView,
  QueuesResponse,
  RecordResponse,
  RecordsResponse,
  RedriveProgressView,
  RefView,
} from './api-types.js';
import { toHttpError } from './http-errors.js';
import {
  alertRuleView,
  auditEntryView,
  purgeResultView,
  queueView,
  recordSummaryView,
  recordView,
  redriveProgressView,
  refView,
} from './json-views.js';
import type { QueueFeed } from './queue-feed.js';

/** The `DlqService` methods the API calls (tests pass a fake). */
export type DlqApi = Pick<DlqService, 'listQueues' | 'listRecords' | 'getRecord' | 'redrive' | 'purge' | 'listAudit' | 'authorize'>;

/** The `AlertService` methods the API calls. */
export type AlertApi = Pick<AlertService, 'listStates' | 'createRule' | 'deleteRule'>;

/** What the routes need. */
export interface ApiRouteOptions {
  service: DlqApi;
  /** Alert rules; without them `/api/alert-rules` is 404 and the console hides its tab. */
  alerts?: AlertApi | undefined;
  feed: QueueFeed;
  info: InfoResponse;
  /** Headers for responses that bypass fastify's hooks (the streams). */
  streamHeaders: Record<string, string>;
  /** Server time, Unix ms. */
  now: () => number;
  logger: Logger;
}

/** The media type of the redrive progress stream. */
export const ndjson = 'application/x-ndjson';

function callContext(request: FastifyRequest): CallContext {
  return { authorization: request.headers.authorization };
}

/** Lists the queues as `QueuesResponse`. */
export async function queuesResponse(service: DlqApi, now: () => number, refresh = false, topic = ''): Promise<QueuesResponse> {
  const { queues } = await service.listQueues({ topic, refresh });
  return { queues: queues.map(queueView), timeMs: now() };
}

function checkConnected(response: ServerResponse): void {
  if (response.destroyed) throw new CancelledError('the client went away');
}

/** Waits until `response` can take more, or throws when the client went away. */
async function drained(response: ServerResponse): Promise<void> {
  checkConnected(response);
  await Promise.race([once(response, 'drain'), once(response, 'close')]);
  checkConnected(response);
}

/** Registers the routes of the file comment on `app`. */
export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const { service, feed, info, now } = options;

  app.get('/api/info', (): InfoResponse => info);

  app.get('/api/queues', async (request): Promise<QueuesResponse> => {
    const query = parseInput(queuesQuery, request.query, 'query');
    const { topic, refresh } = listQueuesRequest(query);
    return queuesResponse(service, now, refresh, topic);
  });

  app.get('/api/queues/events', (_request, reply) => {
    reply.hijack();
    feed.add(reply.raw, options.streamHeaders);
  });

  app.get('/api/queues/:topic/:subscription/records', async (request): Promise<RecordsResponse> => {
    const params = parseInput(queueParams, request.params, 'path');
    const query = parseInput(recordsQuery, request.query, 'query');
    const page = await service.listRecords(listRecordsRequest(params, query));
    return { records: page.records.map(recordSummaryView), nextPageToken: page.nextPageToken, totalMatching: page.totalMatching };
  });

  app.get('/api/queues/:topic/:subscription/records/:partition/:offset', async (request): Promise<RecordResponse> => {
    const params = parseInput(recordParams, request.params, 'path');
    const { record } = await service.getRecord(getRecordRequest(params));
    if (record === undefined) throw new InternalError('GetDeadLetter answered without a record');
    return { record: recordView(record) };
  });

  app.post('/api/queues/:topic/:subscription/redrive', (request, reply) => redrive(request, reply, options));

  app.post('/api/queues/:topic/:subscription/purge', async (request): Promise<PurgeResultView> => {
    const params = parseInput(queueParams, request.params, 'path');
    const body = parseInput(purgeBody, request.body, 'body');
    const result = purgeResultView(await service.purge(purgeRequest(params, body), callContext(request)));
    return body.omitRefs === true ? { ...result, refs: [] } : result;
  });

  app.get('/api/audit', async (request): Promise<AuditResponse> => {
    const query = parseInput(auditQuery, request.query, 'query');
    const page = await service.listAudit(listAuditRequest(query));
    return { entries: page.entries.map(auditEntryView), nextPageToken: page.nextPageToken };
  });

  app.post('/api/auth/check', async (request, reply) => {
    service.authorize(callContext(request));
    return reply.code(204).send();
  });

  const alerts = options.alerts;
  if (alerts !== undefined) {
    app.get('/api/alert-rules', async (request): Promise<AlertRulesResponse> => {
      const query = parseInput(alertRulesQuery, request.query, 'query');
      const { states } = await alerts.listStates({ topic: query.topic ?? '', subscription: query.subscription ?? '', eventLimit: 0 });
      return { rules: states.map(alertRuleView) };
    });

    app.post('/api/alert-rules', async (request, reply): Promise<AlertRuleCreatedResponse> => {
      const body = parseInput(alertRuleBody, request.body, 'body');
      const { rule } = await alerts.createRule(createAlertRuleRequest(body), callContext(request));
      if (rule === undefined) throw new InternalError('CreateAlertRule answered without a rule');
      void reply.code(201);
      return { rule: alertRuleView(await stateOf(alerts, rule)) };
    });

    app.delete('/api/alert-rules/:id', async (request, reply) => {
      const params = parseInput(alertRuleParams, request.params, 'path');
      const query = parseInput(deleteAlertRuleQuery, request.query, 'query');
      await alerts.deleteRule(deleteAlertRuleRequest(params, query), callContext(request));
      return reply.code(204).send();
    });
  }
}

/** A new rule with its state as the monitor has it (not checked yet, unless a check ran since). */
async function stateOf(alerts: AlertApi, rule: AlertRule): Promise<AlertState> {
  const { states } = await alerts.listStates({ topic: rule.topic, subscription: rule.subscription, eventLimit: 1 });
  return (
    states.find((state) => state.rule?.id === rule.id) ?? {
      rule,
      status: AlertStatus.ALERT_STATUS_UNSPECIFIED,
      value: 0,
      sinceMs: 0,
      checkedAtMs: 0,
      firedCount: 0,
    }
  );
}

/**
 * A redrive. With `Accept: application/x-ndjson` the answer is a stream of
 * `RedriveProgressView` lines (at least every ~500 ms, the last with
 * `done: true`); the status is sent with the first line, so an error
 * before it (bad input, no token, unknown record, redrive limit) is a
 * plain error answer, and one after it is a last line `{"error": ...}`.
 * Writes wait for 'drain', which holds the redrive back (the service
 * awaits each progress call). Without NDJSON the answer is the last
 * progress message with every step's `refs` (none with `omitRefs`). A
 * client that goes away stops the redrive; what was sent stays redriven.
 */
async function redrive(request: FastifyRequest, reply: FastifyReply, options: ApiRouteOptions): Promise<RedriveProgressView | FastifyReply> {
  const params = parseInput(queueParams, request.params, 'path');
  const body = parseInput(redriveBody, request.body, 'body');
  const redriveCall = redriveRequest(params, body);
  const omitRefs = body.omitRefs === true;
  const view = (progress: RedriveResponse): RedriveProgressView => redriveProgressView(omitRefs ? { ...progress, refs: [] } : progress);
  const raw = reply.raw;
  const stop = new AbortController();
  raw.on('close', () => {
    if (!raw.writableFinished) stop.abort(new CancelledError('the client went away'));
  });

  if (!(request.headers.accept ?? '').includes(ndjson)) {
    const refs: RefView[] = [];
    const last = await options.service.redrive(
      redriveCall,
      callContext(request),
      (progress: RedriveResponse) => { if (!omitRefs) for (const ref of progress.refs) refs.push(refView(ref)); },
      stop.signal,
    );
    return { ...redriveProgressView(last), refs };
  }

  // Set by the first progress line (a closure: a plain `let` would be narrowed to false below).
  const stream = { started: false };
  const writeLine = async (line: unknown): Promise<void> => {
    if (!stream.started) {
      reply.hijack();
      raw.writeHead(200, { ...options.streamHeaders, 'content-type': `${ndjson}; charset=utf-8`, 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      stream.started = true;
    }
    if (!raw.write(`${JSON.stringify(line)}\n`)) await drained(raw);
  };
  try {
    await options.service.redrive(redriveCall, callContext(request), (progress) => writeLine(view(progress)), stop.signal);
  } catch (error) {
    if (!stream.started) throw error;
    options.logger.warn({ err: error, topic: params.topic, subscription: params.subscription }, 'redrive failed after its progress stream started');
    if (!raw.destroyed) raw.end(`${JSON.stringify(toHttpError(error).body)}\n`);
    return reply;
  }
  if (!stream.started) throw new InternalError('the redrive ended without reporting progress');
  raw.end();
  return reply;
}
