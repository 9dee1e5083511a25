/**
 * `DlqAdminService` over gRPC: each handler translates a call into a
 * `DlqService` (or, for alert rules, `AlertService`) method and back,
 * nothing more. Mutating calls pass the
 * `authorization` metadata on as the `CallContext`; the redrive stream
 * respects `write()` returning false (waits for 'drain') and stops the
 * redrive when the client cancels.
 */
import { once } from 'node:events';
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { CancelledError } from '@braid/core';
import type { DlqAdminServiceServer, RedriveRequest, RedriveResponse } from '@braid/proto';
import { serverStream, unary } from '@braid/server';
import type { CallContext } from './admin-token.js';
import type { AlertService } from './alerts/alert-service.js';
import type { DlqService } from './dlq-service.js';

/** The caller's credentials as sent in the call's metadata. */
export function callContext(metadata: Metadata): CallContext {
  const [authorization] = metadata.get('authorization');
  return { authorization: typeof authorization === 'string' ? authorization : authorization?.toString('utf8') };
}

async function writeWithBackpressure(call: ServerWritableStream<RedriveRequest, RedriveResponse>, message: RedriveResponse): Promise<void> {
  if (call.cancelled) throw new CancelledError('the client cancelled the redrive');
  if (!call.write(message)) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
}

/** The handlers of `DlqAdminService`. */
export function dlqAdminGrpcService(service: DlqService, alerts: AlertService): DlqAdminServiceServer {
  return {
    listDeadLetterQueues: unary((request) => service.listQueues(request)),
    listDeadLetters: unary((request) => service.listRecords(request)),
    getDeadLetter: unary((request) => service.getRecord(request)),
    redrive: serverStream(async (call) => {
      const cancelled = new AbortController();
      call.on('cancelled', () => { cancelled.abort(new CancelledError('the client cancelled the redrive')); });
      await service.redrive(call.request, callContext(call.metadata), (progress) => writeWithBackpressure(call, progress), cancelled.signal);
    }),
    purge: unary((request, call) => service.purge(request, callContext(call.metadata))),
    listAuditEntries: unary((request) => service.listAudit(request)),
    // Alert rules (apps/dlq-admin/src/alerts).
    createAlertRule: unary((request, call) => alerts.createRule(request, callContext(call.metadata))),
    listAlertRules: unary((request) => alerts.listRules(request)),
    deleteAlertRule: unary((request, call) => alerts.deleteRule(request, callContext(call.metadata))),
    listAlertStates: unary((request) => alerts.listStates(request)),
  };
}
