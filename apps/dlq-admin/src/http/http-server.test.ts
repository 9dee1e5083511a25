// The console's HTTP server over a fake service: input checks and their
// translation into the service's requests, the JSON views, error statuses,
// the admin token passed on as the call context, redrive progress as
// NDJSON, alert rules (list, create, delete), the live queue stream, and
// the static files (ETag, gzip, CSP).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailedPreconditionError, NotFoundError, ResourceExhaustedError, UnavailableError } from '@braid/core';
import { MemoryLogger } from '@braid/core/testing';
import { AlertMetric, AlertStatus, DeadLetter, Disposition } from '@braid/proto';
import type {
  AlertRule,
  AlertState,
  CreateAlertRuleRequest,
  DeleteAlertRuleRequest,
  GetDeadLetterRequest,
  ListAlertStatesRequest,
  ListAuditEntriesRequest,
  ListDeadLettersRequest,
  PurgeRequest,
  RedriveRequest,
  RedriveResponse,
} from '@braid/proto';
import { AdminTokenGuard } from '../admin-token.js';
import type { CallContext } from '../admin-token.js';
import type { RedriveProgressListener } from '../redriver.js';
import type { AlertApi, DlqApi } from './api-routes.js';
import type { AlertRuleCreatedResponse, AlertRulesResponse, ErrorResponse, QueuesResponse, RecordResponse, RecordsResponse, RedriveProgressView } from './api-types.js';
import { startHttpServer } from './http-server.js';
import type { HttpServer } from './http-server.js';

const token = 'sesame';

const letter = (offset: number, value: string | Buffer): DeadLetter =>
  DeadLetter.fromPartial({
    dlqPartition: 1,
    dlqOffset: offset,
    origin: { topic: 'orders', partition: 3, offset: 100 + offset, subscription: 'billing', key: Buffer.from('user-1') },
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: { source: 'checkout' },
    attempts: [
      { attempt: 1, timeMs: 1000, memberId: 'm1', disposition: Disposition.DISPOSITION_NACK, reason: 'timeout', errorClass: 'TimeoutError' },
      { attempt: 2, timeMs: 2000, memberId: 'm1', disposition: Disposition.DISPOSITION_REJECT, reason: 'bad', errorClass: 'ValidationError' },
    ],
    deadLetteredAtMs: 2001,
    publishTimeMs: 999,
  });

/** A DlqService stand-in that records the requests it gets and answers what a test sets. */
class FakeService implements DlqApi {
  readonly guard = new AdminTokenGuard(token);
  listRecordsCalls: ListDeadLettersRequest[] = [];
  getRecordCalls: GetDeadLetterRequest[] = [];
  redriveCalls: { request: RedriveRequest; context: CallContext }[] = [];
  purgeCalls: { request: PurgeRequest; context: CallContext }[] = [];
  auditCalls: ListAuditEntriesRequest[] = [];
  depth = 0;
  failWith: Error | undefined = undefined;
  /** Progress messages a redrive reports; `failAfter` throws after that many. */
  progress: RedriveResponse[] = [];
  failAfter: number | undefined = undefined;

  private fail(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }

  authorize(context: CallContext): void {
    this.guard.check(context);
  }

  listQueues: DlqApi['listQueues'] = () => {
    this.fail();
    return Promise.resolve({
      queues: [{ topic: 'orders', subscription: 'billing', deadLetterTopic: 'orders.billing.dlq', depth: this.depth, oldestAgeMs: 0, arrivalsLastMinute: 0 }],
    });
  };

  listRecords: DlqApi['listRecords'] = (request) => {
    this.listRecordsCalls.push(request);
    this.fail();
    return Promise.resolve({ records: [letter(0, JSON.stringify({ n: 0, text: 'x'.repeat(500) })), letter(1, Buffer.from([0xff, 0xfe]))], nextPageToken: 'next', totalMatching: 7 });
  };

  getRecord: DlqApi['getRecord'] = (request) => {
    this.getRecordCalls.push(request);
    this.fail();
    return Promise.resolve({ record: letter(request.dlqOffset, '{"n":1}') });
  };

  redrive = async (request: RedriveRequest, context: CallContext, onProgress: RedriveProgressListener): Promise<RedriveResponse> => {
    this.redriveCalls.push({ request, context });
    this.guard.check(context);
    this.fail();
    let sent = 0;
    for (const message of this.progress) {
      if (this.failAfter !== undefined && sent === this.failAfter) throw new UnavailableError('the broker went away');
      await onProgress(message);
      sent += 1;
    }
    const last = this.progress.at(-1);
    if (last === undefined) throw new Error('no progress set');
    return last;
  };

  purge: DlqApi['purge'] = (request, context) => {
    this.purgeCalls.push({ request, context });
    this.guard.check(context);
    this.fail();
    return Promise.resolve({ purged: 2, refs: [{ dlqPartition: 0, dlqOffset: 0 }, { dlqPartition: 0, dlqOffset: 5 }] });
  };

  listAudit: DlqApi['listAudit'] = (request) => {
    this.auditCalls.push(request);
    return Promise.resolve({
      entries: [{ id: 3, timeMs: 10, actor: 'ann', action: 'purge', topic: 'orders', subscription: 'billing', selection: 'all', recordCount: 2, dryRun: false, skipped: 0, outcome: 'ok', finishedAtMs: 0 }],
      nextPageToken: '',
    });
  };
}

let dir: string;
let service: FakeService;
let server: HttpServer;
let base: string;
const logger = new MemoryLogger();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-console-'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>console</title>${'<p>padding</p>'.repeat(50)}`);
  writeFileSync(join(dir, 'console.js'), 'console.log("hi")');
  service = new FakeService();
  server = await startHttpServer({ service, host: '127.0.0.1', port: 0, consoleDir: dir, adminTokenRequired: true, liveIntervalMs: 50, logger });
  base = server.url;
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  service.failWith = undefined;
  service.failAfter = undefined;
});

interface JsonAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function json<T = unknown>(path: string, init?: RequestInit): Promise<JsonAnswer<T>> {
  const response = await fetch(new URL(path, base), init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const withToken = { authorization: `Bearer ${token}` };

describe('console JSON API', () => {
  it('answers /api/info and the queues with every field, zeros included', async () => {
    expect((await json('/api/info')).body).toEqual({ adminTokenRequired: true, liveIntervalMs: 50 });
    const { body } = await json<QueuesResponse>('/api/queues');
    expect(body.queues).toEqual([{ topic: 'orders', subscription: 'billing', deadLetterTopic: 'orders.billing.dlq', depth: 0, oldestAgeMs: 0, arrivalsLastMinute: 0 }]);
    expect(body.timeMs).toBeGreaterThan(0);
  });

  it('translates filters and paging into ListDeadLetters and answers list rows with previews', async () => {
    const { status, body } = await json<RecordsResponse>(
      '/api/queues/orders/billing/records?errorClass=TimeoutError&reason=&key=user-1&fromTimeMs=5&toTimeMs=9&minAttempts=2&valueContains=vip&pageSize=20&pageToken=abc',
    );
    expect(status).toBe(200);
    expect(service.listRecordsCalls.at(-1)).toEqual({
      topic: 'orders',
      subscription: 'billing',
      filter: { reason: '', errorClass: 'TimeoutError', key: Buffer.from('user-1'), fromTimeMs: 5, toTimeMs: 9, minAttempts: 2, valueContains: 'vip' },
      pageSize: 20,
      pageToken: 'abc',
    });
    expect(body.totalMatching).toBe(7);
    expect(body.nextPageToken).toBe('next');
    const [json0, binary] = body.records;
    expect(json0?.valuePreview).toHaveLength(161);
    expect(json0?.valuePreview.endsWith('…')).toBe(true);
    expect(json0).toMatchObject({ dlqPartition: 1, dlqOffset: 0, valueIsText: true, attemptCount: 2, editCount: 0, redriveCount: 0 });
    expect(json0?.lastAttempt).toEqual({ attempt: 2, timeMs: 2000, memberId: 'm1', disposition: 'REJECT', reason: 'bad', errorClass: 'ValidationError' });
    expect(json0?.origin.key).toEqual({ base64: Buffer.from('user-1').toString('base64'), text: 'user-1', size: 6 });
    expect(binary).toMatchObject({ valueIsText: false, valueSize: 2, valuePreview: '(2 bytes, not UTF-8)' });
  });

  it('takes a key as base64 too, but not both forms', async () => {
    await json('/api/queues/orders/billing/records?keyBase64=AP8=');
    expect(service.listRecordsCalls.at(-1)?.filter?.key).toEqual(Buffer.from([0, 255]));
    const both = await json<ErrorResponse>('/api/queues/orders/billing/records?key=a&keyBase64=AP8=');
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe('query.keyBase64');
  });

  it('answers bad input with 400 naming the field, before calling the service', async () => {
    const calls = service.listRecordsCalls.length;
    const bad = await json<ErrorResponse>('/api/queues/orders/billing/records?minAttempts=many');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INVALID_ARGUMENT', field: 'query.minAttempts', retriable: false });
    const unknown = await json<ErrorResponse>('/api/queues/orders/billing/records?errorclass=x');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('query.errorclass');
    expect(service.listRecordsCalls.length).toBe(calls);
    const negative = await json<ErrorResponse>('/api/queues/orders/billing/records/0/-1');
    expect(negative.body.error.field).toBe('path.offset');
  });

  it('maps service errors to HTTP statuses with the message', async () => {
    const cases: [Error, number, string][] = [
      [new NotFoundError('record 0/9 not in the queue'), 404, 'NOT_FOUND'],
      [new FailedPreconditionError('at the redrive limit; set force'), 412, 'FAILED_PRECONDITION'],
      [new ResourceExhaustedError('slow down', { retryAfterMs: 2500 }), 429, 'RESOURCE_EXHAUSTED'],
      [new UnavailableError('no broker'), 503, 'UNAVAILABLE'],
    ];
    for (const [error, status, code] of cases) {
      service.failWith = error;
      const answer = await json<ErrorResponse>('/api/queues/orders/billing/records/0/9');
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(answer.body.error.message).toBe(error.message);
    }
    service.failWith = new ResourceExhaustedError('slow down', { retryAfterMs: 2500 });
    expect((await json('/api/queues')).headers.get('retry-after')).toBe('3');
    service.failWith = new Error('secret internals');
    const internal = await json<ErrorResponse>('/api/queues');
    expect(internal.status).toBe(500);
    expect(internal.body.error.code).toBe('INTERNAL');
    expect(internal.body.error.message).not.toContain('secret');
    expect(logger.entries.some((entry) => entry.level === 'error' && entry.message === 'http request failed')).toBe(true);
  });

  it('gets one record whole: value, headers, ledger', async () => {
    const { body } = await json<RecordResponse>('/api/queues/orders/billing/records/1/4');
    expect(service.getRecordCalls.at(-1)).toEqual({ topic: 'orders', subscription: 'billing', dlqPartition: 1, dlqOffset: 4 });
    expect(body.record.value).toEqual({ base64: Buffer.from('{"n":1}').toString('base64'), text: '{"n":1}', size: 7 });
    expect(body.record.headers).toEqual({ source: 'checkout' });
    expect(body.record.attempts.map((a) => a.disposition)).toEqual(['NACK', 'REJECT']);
  });

  it('passes the Authorization header to mutating calls; without the token they are 401', async () => {
    const denied = await json<ErrorResponse>('/api/queues/orders/billing/purge', post({ selection: { all: true } }));
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Bearer');
    expect(denied.body.error.code).toBe('UNAUTHENTICATED');
    const wrong = await json<ErrorResponse>('/api/queues/orders/billing/purge', post({ selection: { all: true } }, { authorization: 'Bearer nope' }));
    expect(wrong.status).toBe(401);

    const purged = await json('/api/queues/orders/billing/purge', post({ selection: { refs: [{ dlqPartition: 0, dlqOffset: 5 }] }, olderThanMs: 77, dryRun: true, actor: 'ann' }, withToken));
    expect(purged).toMatchObject({ status: 200, body: { purged: 2, refs: [{ dlqPartition: 0, dlqOffset: 0 }, { dlqPartition: 0, dlqOffset: 5 }] } });
    expect(service.purgeCalls.at(-1)).toEqual({
      request: {
        topic: 'orders',
        subscription: 'billing',
        selection: { selection: { $case: 'refs', value: { refs: [{ dlqPartition: 0, dlqOffset: 5 }] } } },
        olderThanMs: 77,
        dryRun: true,
        actor: 'ann',
      },
      context: { authorization: `Bearer ${token}` },
    });

    expect((await fetch(new URL('/api/auth/check', base), { method: 'POST' })).status).toBe(401);
    expect((await fetch(new URL('/api/auth/check', base), { method: 'POST', headers: withToken })).status).toBe(204);
  });

  it('refuses bodies that are not JSON (415) and bodies with unknown fields (400)', async () => {
    const form = await json<ErrorResponse>('/api/queues/orders/billing/purge', { method: 'POST', headers: { 'content-type': 'text/plain', ...withToken }, body: 'selection=all' });
    expect(form.status).toBe(415);
    expect(form.body.error.message).toContain('application/json');
    const extra = await json<ErrorResponse>('/api/queues/orders/billing/purge', post({ selection: { all: true }, everything: true }, withToken));
    expect(extra.status).toBe(400);
    expect(extra.body.error.field).toBe('body.everything');
    const badSelection = await json<ErrorResponse>('/api/queues/orders/billing/redrive', post({ selection: { some: true } }, withToken));
    expect(badSelection.body.error).toMatchObject({ field: 'body.selection' });
    const noBody = await json<ErrorResponse>('/api/queues/orders/billing/redrive', { method: 'POST', headers: withToken });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.message).toContain('JSON body is required');
  });

  it('redrives with an edited value; without NDJSON the answer is the last step with every step\'s refs', async () => {
    service.progress = [
      { total: 2, redriven: 1, skipped: 0, done: false, refs: [{ dlqPartition: 0, dlqOffset: 1 }] },
      { total: 2, redriven: 2, skipped: 0, done: true, refs: [{ dlqPartition: 0, dlqOffset: 2 }] },
    ];
    const { status, body } = await json<RedriveProgressView>(
      '/api/queues/orders/billing/redrive',
      post({ selection: { filter: { errorClass: 'E', minAttempts: 2 } }, newValueText: '{"fixed":true}', newHeaders: { a: 'b' }, recordsPerSecond: 10, force: true }, withToken),
    );
    expect(status).toBe(200);
    expect(body).toEqual({ total: 2, redriven: 2, skipped: 0, done: true, refs: [{ dlqPartition: 0, dlqOffset: 1 }, { dlqPartition: 0, dlqOffset: 2 }] });
    const { request } = service.redriveCalls.at(-1) ?? {};
    expect(request).toMatchObject({
      topic: 'orders',
      subscription: 'billing',
      dryRun: false,
      recordsPerSecond: 10,
      force: true,
      newValue: Buffer.from('{"fixed":true}'),
      newHeaders: { a: 'b' },
      actor: 'console',
    });
    expect(request?.selection?.selection).toEqual({
      $case: 'filter',
      value: { reason: '', errorClass: 'E', key: undefined, fromTimeMs: 0, toTimeMs: 0, minAttempts: 2, valueContains: '' },
    });
    const counts = await json<RedriveProgressView>('/api/queues/orders/billing/redrive', post({ selection: { all: true }, dryRun: true, omitRefs: true }, withToken));
    expect(counts.body).toEqual({ total: 2, redriven: 2, skipped: 0, done: true, refs: [] });
    expect(service.redriveCalls.at(-1)?.request.dryRun).toBe(true);
    const purgeCounts = await json('/api/queues/orders/billing/purge', post({ selection: { all: true }, omitRefs: true }, withToken));
    expect(purgeCounts.body).toEqual({ purged: 2, refs: [] });
    const both = await json<ErrorResponse>('/api/queues/orders/billing/redrive', post({ selection: { all: true }, newValue: 'AA==', newValueText: 'x' }, withToken));
    expect(both.body.error.field).toBe('body.newValue');
  });

  it('streams redrive progress as NDJSON; an error after the first line ends the stream with an error line', async () => {
    service.progress = [
      { total: 3, redriven: 1, skipped: 0, done: false, refs: [] },
      { total: 3, redriven: 2, skipped: 0, done: false, refs: [] },
      { total: 3, redriven: 3, skipped: 0, done: true, refs: [] },
    ];
    const ndjson = { ...withToken, accept: 'application/x-ndjson' };
    const ok = await fetch(new URL('/api/queues/orders/billing/redrive', base), post({ selection: { all: true } }, ndjson));
    expect(ok.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ok.text()).trim().split('\n').map((line) => JSON.parse(line) as RedriveProgressView);
    expect(lines.map((line) => [line.redriven, line.done])).toEqual([[1, false], [2, false], [3, true]]);

    service.failAfter = 1;
    const broken = await fetch(new URL('/api/queues/orders/billing/redrive', base), post({ selection: { all: true } }, ndjson));
    expect(broken.status).toBe(200);
    const brokenLines = (await broken.text()).trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(brokenLines).toHaveLength(2);
    expect(brokenLines[1]).toMatchObject({ error: { code: 'UNAVAILABLE', message: 'the broker went away' } });

    const refused = await fetch(new URL('/api/queues/orders/billing/redrive', base), post({ selection: { all: true } }, { accept: 'application/x-ndjson' }));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ErrorResponse).error.code).toBe('UNAUTHENTICATED');
  });

  it('lists the audit log', async () => {
    const { body } = await json<{ entries: unknown[] }>('/api/audit?action=purge&pageSize=10');
    expect(service.auditCalls.at(-1)).toEqual({ topic: '', subscription: '', action: 'purge', pageSize: 10, pageToken: '' });
    expect(body.entries).toEqual([
      { id: 3, timeMs: 10, actor: 'ann', action: 'purge', topic: 'orders', subscription: 'billing', selection: 'all', recordCount: 2, dryRun: false, skipped: 0, outcome: 'ok', finishedAtMs: 0 },
    ]);
  });

  it('answers unknown API routes with a JSON 404 (the console hides the alert-rules tab on it)', async () => {
    const missing = await json<ErrorResponse>('/api/alert-rules');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect((await json('/api/alert-rules', post({ topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 1 }, withToken))).status).toBe(404);
  });
});

/** An AlertService stand-in: rules in memory, the token checked as the real one does (first). */
class FakeAlerts implements AlertApi {
  states: AlertState[] = [];
  listCalls: ListAlertStatesRequest[] = [];
  createCalls: { request: CreateAlertRuleRequest; context: CallContext }[] = [];
  deleteCalls: { request: DeleteAlertRuleRequest; context: CallContext }[] = [];
  failWith: Error | undefined = undefined;
  private nextId = 1;

  constructor(private readonly guard: AdminTokenGuard) {}

  listStates: AlertApi['listStates'] = (request) => {
    this.listCalls.push(request);
    const states = this.states.filter((state) => request.topic === '' || state.rule?.topic === request.topic);
    return Promise.resolve({ states, events: [], counters: undefined });
  };

  createRule: AlertApi['createRule'] = (request, context) => {
    this.createCalls.push({ request, context });
    this.guard.check(context);
    if (this.failWith !== undefined) throw this.failWith;
    const rule: AlertRule = {
      id: `r${this.nextId++}`, topic: request.topic, subscription: request.subscription, metric: request.metric, threshold: request.threshold,
      clearThreshold: request.clearThreshold ?? request.threshold, forMs: request.forMs, webhooks: request.webhooks, description: request.description,
      createdAtMs: 5, createdBy: request.actor,
    };
    this.states.push({ rule, status: AlertStatus.ALERT_STATUS_UNSPECIFIED, value: 0, sinceMs: 0, checkedAtMs: 0, firedCount: 0 });
    return Promise.resolve({ rule });
  };

  deleteRule: AlertApi['deleteRule'] = (request, context) => {
    this.deleteCalls.push({ request, context });
    this.guard.check(context);
    const index = this.states.findIndex((state) => state.rule?.id === request.id);
    const rule = this.states[index]?.rule;
    if (rule === undefined) throw new NotFoundError(`no alert rule with id "${request.id}"`);
    this.states.splice(index, 1);
    return Promise.resolve({ rule });
  };
}

describe('alert rules', () => {
  let alerts: FakeAlerts;
  let withAlerts: HttpServer;
  const at = (path: string): string => new URL(path, withAlerts.url).href;

  beforeAll(async () => {
    alerts = new FakeAlerts(service.guard);
    withAlerts = await startHttpServer({ service, alerts, host: '127.0.0.1', port: 0, consoleDir: dir, adminTokenRequired: true, logger });
  });

  afterAll(async () => {
    await withAlerts.close();
  });

  afterEach(() => {
    alerts.failWith = undefined;
  });

  it('lists rules with their state when alerts are served', async () => {
    alerts.states = [
      {
        rule: {
          id: 'r0', topic: 'orders', subscription: 'billing', metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 100, clearThreshold: 50,
          forMs: 0, webhooks: ['http://hooks.example/a'], description: 'too deep', createdAtMs: 5, createdBy: 'ann',
        },
        status: AlertStatus.ALERT_STATUS_FIRING, value: 120, sinceMs: 7, checkedAtMs: 8, firedCount: 1,
      },
    ];
    const { body } = await json<AlertRulesResponse>(at('/api/alert-rules?topic=orders'));
    expect(alerts.listCalls.at(-1)).toEqual({ topic: 'orders', subscription: '', eventLimit: 0 });
    expect(body.rules).toEqual([
      {
        id: 'r0', topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 100, clearThreshold: 50, forMs: 0,
        webhooks: ['http://hooks.example/a'], description: 'too deep', createdAtMs: 5, createdBy: 'ann',
        status: 'FIRING', value: 120, sinceMs: 7, checkedAtMs: 8, firedCount: 1,
      },
    ]);
  });

  it('creates a rule: 201 with the rule and its state, the token passed on, the actor defaulting to console', async () => {
    const created = await json<AlertRuleCreatedResponse>(
      at('/api/alert-rules'),
      post(
        {
          topic: 'orders', subscription: 'billing', metric: 'OLDEST_AGE_MS', threshold: 60_000, clearThreshold: 30_000, forMs: 5000,
          webhooks: ['https://hooks.example/b'], description: 'stale', actor: 'ann',
        },
        withToken,
      ),
    );
    expect(created.status).toBe(201);
    expect(alerts.createCalls.at(-1)).toEqual({
      request: {
        topic: 'orders', subscription: 'billing', metric: AlertMetric.ALERT_METRIC_OLDEST_AGE_MS, threshold: 60_000, clearThreshold: 30_000,
        forMs: 5000, webhooks: ['https://hooks.example/b'], description: 'stale', actor: 'ann',
      },
      context: { authorization: `Bearer ${token}` },
    });
    expect(created.body.rule).toMatchObject({ topic: 'orders', subscription: 'billing', metric: 'OLDEST_AGE_MS', threshold: 60_000, clearThreshold: 30_000, status: 'UNSPECIFIED' });
    const { body } = await json<AlertRulesResponse>(at('/api/alert-rules'));
    expect(body.rules.map((rule) => rule.id)).toContain(created.body.rule.id);

    await json(at('/api/alert-rules'), post({ topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 0 }, withToken));
    expect(alerts.createCalls.at(-1)?.request).toEqual({
      topic: 'orders', subscription: 'billing', metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 0, clearThreshold: undefined,
      forMs: 0, webhooks: [], description: '', actor: 'console',
    });
  });

  it('answers a bad rule with 400 naming the field, without calling the service', async () => {
    const calls = alerts.createCalls.length;
    const good = { topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 10 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, metric: 'depth_above' }, 'body.metric'],
      [{ ...good, metric: undefined }, 'body.metric'],
      [{ ...good, threshold: -1 }, 'body.threshold'],
      [{ ...good, threshold: '10' }, 'body.threshold'],
      [{ ...good, threshold: 1.5 }, 'body.threshold'],
      [{ ...good, topic: '' }, 'body.topic'],
      [{ ...good, subscription: undefined }, 'body.subscription'],
      [{ ...good, forMs: -5 }, 'body.forMs'],
      [{ ...good, webhooks: 'http://hooks.example/a' }, 'body.webhooks'],
      [{ ...good, for: 5 }, 'body.for'],
    ];
    for (const [body, field] of cases) {
      const bad = await json<ErrorResponse>(at('/api/alert-rules'), post(body, withToken));
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
      expect(bad.body.error.message).toContain(field);
    }
    const noBody = await json<ErrorResponse>(at('/api/alert-rules'), { method: 'POST', headers: withToken });
    expect(noBody.status).toBe(400);
    expect(alerts.createCalls.length).toBe(calls);
  });

  it('needs the admin token to create or delete a rule (401), and maps service errors like the other routes', async () => {
    const rule = { topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 10 };
    const denied = await json<ErrorResponse>(at('/api/alert-rules'), post(rule));
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Bearer');
    expect(denied.body.error.code).toBe('UNAUTHENTICATED');
    const wrong = await json<ErrorResponse>(at('/api/alert-rules'), post(rule, { authorization: 'Bearer nope' }));
    expect(wrong.status).toBe(401);

    const existing = alerts.states.length;
    const unauthorizedDelete = await fetch(at('/api/alert-rules/r1'), { method: 'DELETE' });
    expect(unauthorizedDelete.status).toBe(401);
    expect(((await unauthorizedDelete.json()) as ErrorResponse).error.code).toBe('UNAUTHENTICATED');
    expect(alerts.states.length).toBe(existing);

    const notFound = new NotFoundError('subscription "nope" of topic "orders" does not exist');
    alerts.failWith = notFound;
    const unknown = await json<ErrorResponse>(at('/api/alert-rules'), post({ ...rule, subscription: 'nope' }, withToken));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe(notFound.message);
    alerts.failWith = new FailedPreconditionError('there are 1000 alert rules already');
    expect((await json(at('/api/alert-rules'), post(rule, withToken))).status).toBe(412);
  });

  it('deletes a rule: 204, the actor from the query, 404 for an unknown id', async () => {
    const created = await json<AlertRuleCreatedResponse>(at('/api/alert-rules'), post({ topic: 'orders', subscription: 'billing', metric: 'DEPTH', threshold: 3 }, withToken));
    const id = created.body.rule.id;
    const deleted = await fetch(at(`/api/alert-rules/${id}?actor=ann`), { method: 'DELETE', headers: withToken });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(alerts.deleteCalls.at(-1)).toEqual({ request: { id, actor: 'ann' }, context: { authorization: `Bearer ${token}` } });
    const { body } = await json<AlertRulesResponse>(at('/api/alert-rules'));
    expect(body.rules.map((rule) => rule.id)).not.toContain(id);

    const again = await fetch(at(`/api/alert-rules/${id}`), { method: 'DELETE', headers: withToken });
    expect(again.status).toBe(404);
    expect(((await again.json()) as ErrorResponse).error.code).toBe('NOT_FOUND');
    expect(alerts.deleteCalls.at(-1)?.request.actor).toBe('console');
    const typo = await json<ErrorResponse>(at(`/api/alert-rules/${id}?who=ann`), { method: 'DELETE', headers: withToken });
    expect(typo.body.error.field).toBe('query.who');
  });
});

describe('live queue stream', () => {
  it('sends the queues at once and then every interval, with current depths', async () => {
    const abort = new AbortController();
    const response = await fetch(new URL('/api/queues/events', base), { signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    if (response.body === null) throw new Error('no body');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const depths = (): number[] =>
      [...text.matchAll(/^event: queues\ndata: (.*)$/gm)].map((match) => (JSON.parse(match[1] ?? '') as QueuesResponse).queues[0]?.depth ?? -1);
    while (depths().length < 1) text += (await reader.read()).value ?? '';
    service.depth = 42;
    while (!depths().includes(42)) text += (await reader.read()).value ?? '';
    expect(text.startsWith('retry: 50\n\n')).toBe(true);
    expect(depths()[0]).toBe(0);
    abort.abort();
  });
});

describe('closing', () => {
  it('ends open event streams and stops listening', async () => {
    const closing = await startHttpServer({ service, host: '127.0.0.1', port: 0, consoleDir: dir, adminTokenRequired: false, liveIntervalMs: 50, logger });
    const response = await fetch(new URL('/api/queues/events', closing.url));
    if (response.body === null) throw new Error('no body');
    const reader = response.body.getReader();
    await reader.read();
    const started = Date.now();
    await closing.close();
    for (;;) if ((await reader.read()).done) break;
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(fetch(new URL('/api/info', closing.url))).rejects.toThrow();
  });
});

describe('console files', () => {
  it('serves index.html at / with a strict CSP, revalidates with ETag and gzips', async () => {
    const page = await fetch(new URL('/', base));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>console</title>');
    const etag = page.headers.get('etag') ?? '';
    expect((await fetch(new URL('/', base), { headers: { 'if-none-match': etag } })).status).toBe(304);

    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      // fetch decompresses by itself; read the bytes as sent.
      import('node:http')
        .then(({ get }) => {
          get(new URL('/index.html', base), { headers: { 'accept-encoding': 'gzip' } }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => { resolve({ encoding: response.headers['content-encoding'], body: Buffer.concat(chunks) }); });
          }).on('error', reject);
        })
        .catch(reject);
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toContain('<title>console</title>');
    expect(await (await fetch(new URL('/console.js', base))).text()).toBe('console.log("hi")');
    expect((await fetch(new URL('/secret.env', base))).status).toBe(404);
  });

  it('explains how to build the console when its files are missing, and still serves the API', async () => {
    const bare = await startHttpServer({ service, host: '127.0.0.1', port: 0, consoleDir: join(dir, 'missing'), adminTokenRequired: false, logger });
    try {
      expect(bare.consoleAvailable).toBe(false);
      const page = await fetch(new URL('/', bare.url));
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('nx build dlq-admin');
      expect((await fetch(new URL('/api/info', bare.url))).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
