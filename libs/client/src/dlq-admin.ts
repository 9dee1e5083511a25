/**
 * `DlqAdmin`: dlq-admin's `DlqAdminService` as promises (and the redrive's
 * progress as an async iterator). Dead-letter queues and their records,
 * redrive, purge, the audit log and alert rules. Thin wrappers: requests
 * are the generated messages (any field left out takes its zero value),
 * every unary call has a deadline, and failures reject with a `BraidError`
 * carrying the server's gRPC code, reason and message. With `token`, every
 * call carries `authorization: Bearer <token>` (mutating calls need it when
 * dlq-admin runs with `BRAID_ADMIN_TOKEN`; UNAUTHENTICATED otherwise).
 */
import { Metadata } from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { InternalError, fromGrpcError } from '@braid/core';
import {
  CreateAlertRuleRequest,
  DeleteAlertRuleRequest,
  DlqAdminServiceClient,
  GetDeadLetterRequest,
  ListAlertRulesRequest,
  ListAlertStatesRequest,
  ListAuditEntriesRequest,
  ListDeadLetterQueuesRequest,
  ListDeadLettersRequest,
  PurgeRequest,
  RedriveRequest,
} from '@braid/proto';
import type {
  AlertRule,
  CreateAlertRuleResponse,
  DeadLetter,
  DeadLetterQueue,
  DeleteAlertRuleResponse,
  GetDeadLetterResponse,
  ListAlertRulesResponse,
  ListAlertStatesResponse,
  ListDeadLetterQueuesResponse,
  ListAuditEntriesResponse,
  ListDeadLettersResponse,
  PurgeResponse,
  RedriveResponse,
} from '@braid/proto';
import { ChannelPool } from './channels.js';
import type { ConnectionOptions } from './channels.js';
import { dlqAdminClientDefaults } from './defaults.js';

/** Options of {@link DlqAdmin}. */
export interface DlqAdminOptions extends ConnectionOptions {
  /** dlq-admin's gRPC address `host:port` (default `localhost:7402`). */
  address?: string;
  /** The admin token, sent as `authorization: Bearer <token>`; undefined or empty: none. */
  token?: string;
  /** Deadline of each unary call, in ms (default 10000). Redrives have none: they run as long as the rate limit makes them. */
  timeoutMs?: number;
}

/** What a message's `fromPartial` accepts: the message with any field left out. */
export type MessageInput<M extends { fromPartial: (object: never) => unknown }> = Parameters<M['fromPartial']>[0];

/** Options of {@link DlqAdmin.redrive}. */
export interface RedriveCallOptions {
  /** Called with every progress message, the last one (`done`) included. */
  onProgress?: (progress: RedriveResponse) => void;
  /** Cancels the call (dlq-admin stops the redrive; what was sent stays redriven). */
  signal?: AbortSignal;
}

type Callback<T> = (error: ServiceError | null, response: T) => void;

/**
 * A dlq-admin client:
 *
 * ```ts
 * const dlq = new DlqAdmin({ address: 'localhost:7402', token: process.env.BRAID_ADMIN_TOKEN });
 * const queues = await dlq.listQueues();
 * const last = await dlq.redrive({ topic: 'orders', subscription: 'billing', selection: { selection: { $case: 'all', value: true } } });
 * dlq.close();
 * ```
 */
export class DlqAdmin {
  private readonly pool: ChannelPool;
  private readonly client: DlqAdminServiceClient;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: DlqAdminOptions = {}) {
    this.pool = new ChannelPool(options);
    this.client = this.pool.client(options.address ?? dlqAdminClientDefaults.address, DlqAdminServiceClient);
    this.token = options.token === '' ? undefined : options.token;
    this.timeoutMs = options.timeoutMs ?? dlqAdminClientDefaults.timeoutMs;
  }

  /** Dead-letter queues (depth, oldest record's age, arrivals in the last minute), by topic and subscription. */
  async listQueues(request: MessageInput<typeof ListDeadLetterQueuesRequest> = {}): Promise<DeadLetterQueue[]> {
    const message = ListDeadLetterQueuesRequest.fromPartial(request);
    return (await this.unary<ListDeadLetterQueuesResponse>((m, o, cb) => this.client.listDeadLetterQueues(message, m, o, cb))).queues;
  }

  /** A page of a queue's records matching `filter`, oldest first; `nextPageToken` is empty on the last page. */
  listRecords(request: MessageInput<typeof ListDeadLettersRequest>): Promise<ListDeadLettersResponse> {
    const message = ListDeadLettersRequest.fromPartial(request);
    return this.unary<ListDeadLettersResponse>((m, o, cb) => this.client.listDeadLetters(message, m, o, cb));
  }

  /** One record with its whole attempt ledger; NOT_FOUND if it is not (or no longer) in the queue. */
  async getRecord(request: MessageInput<typeof GetDeadLetterRequest>): Promise<DeadLetter> {
    const message = GetDeadLetterRequest.fromPartial(request);
    const { record } = await this.unary<GetDeadLetterResponse>((m, o, cb) => this.client.getDeadLetter(message, m, o, cb));
    if (record === undefined) throw new InternalError('GetDeadLetter answered without a record');
    return record;
  }

  /**
   * The progress messages of a redrive as they come, the last one with
   * `done` set. Breaking out of the loop cancels the call.
   */
  async *redriveProgress(request: MessageInput<typeof RedriveRequest>, signal?: AbortSignal): AsyncGenerator<RedriveResponse> {
    const stream: ClientReadableStream<RedriveResponse> = this.client.redrive(RedriveRequest.fromPartial(request), this.metadata());
    const cancel = (): void => { stream.cancel(); };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of stream as AsyncIterable<RedriveResponse>) yield message;
    } catch (error) {
      throw signal?.aborted ? signal.reason : fromGrpcError(error);
    } finally {
      signal?.removeEventListener('abort', cancel);
      stream.cancel();
    }
  }

  /** Runs a redrive to its end and resolves with its last progress message (`done`). */
  async redrive(request: MessageInput<typeof RedriveRequest>, options: RedriveCallOptions = {}): Promise<RedriveResponse> {
    let last: RedriveResponse | undefined;
    for await (const progress of this.redriveProgress(request, options.signal)) {
      options.onProgress?.(progress);
      last = progress;
    }
    if (last === undefined) throw new InternalError('Redrive ended without a progress message');
    return last;
  }

  /** Deletes records from a queue (or, with `dryRun`, counts what would go). */
  purge(request: MessageInput<typeof PurgeRequest>): Promise<PurgeResponse> {
    const message = PurgeRequest.fromPartial(request);
    return this.unary<PurgeResponse>((m, o, cb) => this.client.purge(message, m, o, cb));
  }

  /** A page of the audit log, newest first. */
  listAudit(request: MessageInput<typeof ListAuditEntriesRequest> = {}): Promise<ListAuditEntriesResponse> {
    const message = ListAuditEntriesRequest.fromPartial(request);
    return this.unary<ListAuditEntriesResponse>((m, o, cb) => this.client.listAuditEntries(message, m, o, cb));
  }

  /** Adds an alert rule and returns it with its id. */
  async createAlertRule(request: MessageInput<typeof CreateAlertRuleRequest>): Promise<AlertRule> {
    const message = CreateAlertRuleRequest.fromPartial(request);
    const { rule } = await this.unary<CreateAlertRuleResponse>((m, o, cb) => this.client.createAlertRule(message, m, o, cb));
    if (rule === undefined) throw new InternalError('CreateAlertRule answered without a rule');
    return rule;
  }

  /** Alert rules, optionally of one topic and/or subscription. */
  async listAlertRules(request: MessageInput<typeof ListAlertRulesRequest> = {}): Promise<AlertRule[]> {
    const message = ListAlertRulesRequest.fromPartial(request);
    return (await this.unary<ListAlertRulesResponse>((m, o, cb) => this.client.listAlertRules(message, m, o, cb))).rules;
  }

  /** Deletes an alert rule and returns it as it was; NOT_FOUND for an unknown id. */
  async deleteAlertRule(request: MessageInput<typeof DeleteAlertRuleRequest>): Promise<AlertRule> {
    const message = DeleteAlertRuleRequest.fromPartial(request);
    const { rule } = await this.unary<DeleteAlertRuleResponse>((m, o, cb) => this.client.deleteAlertRule(message, m, o, cb));
    if (rule === undefined) throw new InternalError('DeleteAlertRule answered without a rule');
    return rule;
  }

  /** Every rule's state, the latest alert events with their webhook deliveries, and alerting counters. */
  listAlertStates(request: MessageInput<typeof ListAlertStatesRequest> = {}): Promise<ListAlertStatesResponse> {
    const message = ListAlertStatesRequest.fromPartial(request);
    return this.unary<ListAlertStatesResponse>((m, o, cb) => this.client.listAlertStates(message, m, o, cb));
  }

  /** Closes the connection; running calls fail with CANCELLED. */
  close(): void {
    this.client.close();
    this.pool.close();
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private unary<T>(invoke: (metadata: Metadata, options: { deadline: number }, callback: Callback<T>) => unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      invoke(this.metadata(), { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (error) reject(fromGrpcError(error));
        else resolve(response);
      });
    });
  }
}
