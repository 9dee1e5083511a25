/**
 * The console's client of dlq-admin's JSON API (`/api`, shapes in
 * `apps/dlq-admin/src/http/api-types.ts`). The admin token and the name
 * written to the audit log live in sessionStorage: they survive a reload
 * but not the browser tab, and are sent only to this origin.
 */
import type {
  AlertRuleCreatedResponse,
  AlertRuleInput,
  AlertRulesResponse,
  AuditResponse,
  ErrorResponse,
  FilterInput,
  InfoResponse,
  PurgeInput,
  PurgeResultView,
  QueuesResponse,
  RecordResponse,
  RecordsResponse,
  RedriveInput,
  RedriveProgressView,
} from '../../src/http/api-types.js';

export type * from '../../src/http/api-types.js';

const tokenKey = 'braid.adminToken';
const actorKey = 'braid.actor';

/** The admin token of this tab ('' if none). */
export function storedToken(): string {
  return sessionStorage.getItem(tokenKey) ?? '';
}

export function storeToken(token: string): void {
  if (token === '') sessionStorage.removeItem(tokenKey);
  else sessionStorage.setItem(tokenKey, token);
}

/** The name recorded as `actor` in the audit log ('console' if none). */
export function storedActor(): string {
  return sessionStorage.getItem(actorKey) ?? '';
}

export function storeActor(actor: string): void {
  if (actor === '') sessionStorage.removeItem(actorKey);
  else sessionStorage.setItem(actorKey, actor);
}

function actor(): string {
  return storedActor() || 'console';
}

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function isErrorResponse(value: unknown): value is ErrorResponse {
  return typeof value === 'object' && value !== null && 'error' in value && typeof (value as ErrorResponse).error.message === 'string';
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorResponse(body)) return new ApiError(response.status, body.error.code, body.error.message);
  } catch {
    // Not JSON (a proxy's error page): show the text.
  }
  return new ApiError(response.status, `HTTP ${response.status}`, text.slice(0, 300) || response.statusText);
}

function headers(json: boolean): Record<string, string> {
  const token = storedToken();
  return {
    accept: 'application/json',
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
  };
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: headers(false), signal });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

async function deleteNoContent(path: string): Promise<void> {
  const response = await fetch(path, { method: 'DELETE', headers: headers(false) });
  if (!response.ok) throw await failure(response);
}

function queuePath(topic: string, subscription: string): string {
  return `api/queues/${encodeURIComponent(topic)}/${encodeURIComponent(subscription)}`;
}

/** A query string of the set (non-empty) fields. */
export function queryString(fields: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export const api = {
  info: (): Promise<InfoResponse> => getJson('api/info'),

  queues: (refresh = false): Promise<QueuesResponse> => getJson(`api/queues${queryString({ refresh: refresh || undefined })}`),

  records: (topic: string, subscription: string, filter: FilterInput, pageSize: number, pageToken: string, signal?: AbortSignal): Promise<RecordsResponse> =>
    getJson(`${queuePath(topic, subscription)}/records${queryString({ ...filter, pageSize, pageToken })}`, signal),

  record: (topic: string, subscription: string, partition: number, offset: number): Promise<RecordResponse> =>
    getJson(`${queuePath(topic, subscription)}/records/${partition}/${offset}`),

  alertRules: (): Promise<AlertRulesResponse> => getJson('api/alert-rules'),

  createAlertRule: (input: AlertRuleInput): Promise<AlertRuleCreatedResponse> => postJson('api/alert-rules', { actor: actor(), ...input }),

  deleteAlertRule: (id: string): Promise<void> => deleteNoContent(`api/alert-rules/${encodeURIComponent(id)}${queryString({ actor: actor() })}`),

  audit: (filter: { topic?: string; subscription?: string; action?: string }, pageToken: string): Promise<AuditResponse> =>
    getJson(`api/audit${queryString({ ...filter, pageSize: 50, pageToken })}`),

  purge: (topic: string, subscription: string, input: PurgeInput): Promise<PurgeResultView> =>
    postJson(`${queuePath(topic, subscription)}/purge`, { actor: actor(), ...input }),

  /** Whether the stored token is accepted (or none is needed). */
  checkToken: async (): Promise<boolean> => {
    const response = await fetch('api/auth/check', { method: 'POST', headers: headers(false) });
    if (response.status === 401) return false;
    if (!response.ok) throw await failure(response);
    return true;
  },

  /**
   * A redrive, reading the NDJSON progress stream: `onProgress` gets every
   * step; resolves with the last (`done: true`).
   */
  redrive: async (topic: string, subscription: string, input: RedriveInput, onProgress: (progress: RedriveProgressView) => void): Promise<RedriveProgressView> => {
    const response = await fetch(`${queuePath(topic, subscription)}/redrive`, {
      method: 'POST',
      headers: { ...headers(true), accept: 'application/x-ndjson' },
      body: JSON.stringify({ actor: actor(), ...input }),
    });
    if (!response.ok || response.body === null) throw await failure(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    let last: RedriveProgressView | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (value !== undefined) buffered += value;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        if (line === '') continue;
        const message = JSON.parse(line) as RedriveProgressView | ErrorResponse;
        if (isErrorResponse(message)) throw new ApiError(200, message.error.code, message.error.message);
        last = message;
        onProgress(message);
      }
      if (done) break;
    }
    if (last?.done !== true) throw new ApiError(200, 'UNAVAILABLE', 'the redrive stream ended early; see the audit log for what moved');
    return last;
  },
};
