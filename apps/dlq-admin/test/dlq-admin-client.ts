// Promise helpers over the generated DlqAdminService client, for
// dlq-admin's integration tests: what an operator's tool would call.
import { Metadata, credentials } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import {
  DlqAdminServiceClient,
  GetDeadLetterRequest,
  ListAuditEntriesRequest,
  ListDeadLetterQueuesRequest,
  ListDeadLettersRequest,
  PurgeRequest,
  RedriveRequest,
} from '@braid/proto';
import type {
  GetDeadLetterResponse,
  ListAuditEntriesResponse,
  ListDeadLetterQueuesResponse,
  ListDeadLettersResponse,
  PurgeResponse,
  RedriveResponse,
} from '@braid/proto';
import { call } from '@braid/testkit';

/** What a message's `fromPartial` accepts. */
type Input<M extends { fromPartial: (object: never) => unknown }> = Parameters<M['fromPartial']>[0];

/** A DlqAdminService client; `token` goes out as `authorization: Bearer <token>` on every call. */
export class DlqAdminClient {
  readonly client: DlqAdminServiceClient;

  constructor(
    address: string | DlqAdminServiceClient,
    private readonly token?: string,
  ) {
    this.client =
      typeof address === 'string'
        ? new DlqAdminServiceClient(address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 })
        : address;
  }

  /** The same connection with another token (undefined: none). */
  withToken(token: string | undefined): DlqAdminClient {
    return new DlqAdminClient(this.client, token);
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  listQueues(request: Input<typeof ListDeadLetterQueuesRequest> = {}): Promise<ListDeadLetterQueuesResponse> {
    return call((cb) => { this.client.listDeadLetterQueues(ListDeadLetterQueuesRequest.fromPartial(request), this.metadata(), cb); });
  }

  listRecords(request: Input<typeof ListDeadLettersRequest>): Promise<ListDeadLettersResponse> {
    return call((cb) => { this.client.listDeadLetters(ListDeadLettersRequest.fromPartial(request), this.metadata(), cb); });
  }

  getRecord(request: Input<typeof GetDeadLetterRequest>): Promise<GetDeadLetterResponse> {
    return call((cb) => { this.client.getDeadLetter(GetDeadLetterRequest.fromPartial(request), this.metadata(), cb); });
  }

  purge(request: Input<typeof PurgeRequest>): Promise<PurgeResponse> {
    return call((cb) => { this.client.purge(PurgeRequest.fromPartial(request), this.metadata(), cb); });
  }

  listAudit(request: Input<typeof ListAuditEntriesRequest> = {}): Promise<ListAuditEntriesResponse> {
    return call((cb) => { this.client.listAuditEntries(ListAuditEntriesRequest.fromPartial(request), this.metadata(), cb); });
  }

  /** Runs a redrive to its end; resolves with every progress message (the last has `done`). */
  redrive(request: Input<typeof RedriveRequest>, onMessage?: (message: RedriveResponse) => void): Promise<RedriveResponse[]> {
    return new Promise((resolve, reject) => {
      const messages: RedriveResponse[] = [];
      const stream = this.client.redrive(RedriveRequest.fromPartial(request), this.metadata());
      stream.on('data', (message: RedriveResponse) => {
        messages.push(message);
        onMessage?.(message);
      });
      stream.on('error', (error) => { reject(fromGrpcError(error)); });
      stream.on('end', () => { resolve(messages); });
    });
  }

  close(): void {
    this.client.close();
  }
}
