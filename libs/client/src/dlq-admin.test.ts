// DlqAdmin against an in-process grpc-js server implementing
// DlqAdminService with canned answers: the bearer token goes out when set,
// statuses come back as BraidErrors, and a redrive's progress streams.
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { Metadata, ServerUnaryCall, ServerWritableStream, handleUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError, toGrpcStatus } from '@braid/core';
import { AlertMetric, DlqAdminServiceService } from '@braid/proto';
import type { AlertRule, CreateAlertRuleRequest, DlqAdminServiceServer, RedriveRequest, RedriveResponse } from '@braid/proto';
import { DlqAdmin } from './dlq-admin.js';

let server: Server;
let address: string;
/** The `authorization` each call carried, in call order. */
const authorizations: (string | undefined)[] = [];

const seen = (metadata: Metadata): void => {
  const [value] = metadata.get('authorization');
  authorizations.push(typeof value === 'string' ? value : undefined);
};

function unimplemented<Req, Res>(): handleUnaryCall<Req, Res> {
  return (_call, callback) => { callback({ code: Status.UNIMPLEMENTED, details: 'not in this fake' }); };
}

const rule = (request: CreateAlertRuleRequest): AlertRule => ({
  id: 'r1',
  topic: request.topic,
  subscription: request.subscription,
  metric: request.metric,
  threshold: request.threshold,
  clearThreshold: request.clearThreshold ?? request.threshold,
  forMs: request.forMs,
  webhooks: request.webhooks,
  description: request.description,
  createdAtMs: 1,
  createdBy: request.actor,
});

const fake: DlqAdminServiceServer = {
  listDeadLetterQueues: (call, callback) => {
    seen(call.metadata);
    callback(null, { queues: [{ topic: call.request.topic, subscription: 'billing', deadLetterTopic: 'x.billing.dlq', depth: 3, oldestAgeMs: 10, arrivalsLastMinute: 1 }] });
  },
  listDeadLetters: unimplemented(),
  getDeadLetter: (call, callback) => {
    seen(call.metadata);
    callback(toGrpcStatus(new UnavailableError('indexer is behind')));
  },
  redrive: (call: ServerWritableStream<RedriveRequest, RedriveResponse>) => {
    seen(call.metadata);
    call.write({ total: 3, redriven: 1, skipped: 0, done: false, refs: [{ dlqPartition: 0, dlqOffset: 1 }] });
    call.write({ total: 3, redriven: 3, skipped: 0, done: true, refs: [{ dlqPartition: 0, dlqOffset: 2 }, { dlqPartition: 0, dlqOffset: 3 }] });
    call.end();
  },
  purge: unimplemented(),
  listAuditEntries: unimplemented(),
  createAlertRule: (call: ServerUnaryCall<CreateAlertRuleRequest, unknown>, callback: sendUnaryData<{ rule: AlertRule }>) => {
    seen(call.metadata);
    callback(null, { rule: rule(call.request) });
  },
  listAlertRules: unimplemented(),
  deleteAlertRule: unimplemented(),
  listAlertStates: unimplemented(),
};

beforeAll(async () => {
  server = new Server();
  server.addService(DlqAdminServiceService, fake);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  address = `127.0.0.1:${port}`;
});

afterAll(() => {
  server.forceShutdown();
});

describe('DlqAdmin', () => {
  it('sends the token as a bearer token when one is given, and nothing otherwise', async () => {
    const withToken = new DlqAdmin({ address, token: 's3cret' });
    const without = new DlqAdmin({ address, token: '' });
    try {
      authorizations.length = 0;
      expect(await withToken.listQueues({ topic: 'orders' })).toMatchObject([{ topic: 'orders', subscription: 'billing', depth: 3 }]);
      await without.listQueues();
      expect(authorizations).toEqual(['Bearer s3cret', undefined]);
    } finally {
      withToken.close();
      without.close();
    }
  });

  it('rejects with the BraidError the server sent', async () => {
    const dlq = new DlqAdmin({ address });
    try {
      await expect(dlq.getRecord({ topic: 'orders', subscription: 'billing' })).rejects.toMatchObject({
        code: Status.UNAVAILABLE,
        reason: 'UNAVAILABLE',
        message: 'indexer is behind',
        retriable: true,
      });
      await expect(dlq.purge({ topic: 'orders' })).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
    } finally {
      dlq.close();
    }
  });

  it("streams a redrive's progress and resolves with the last message", async () => {
    const dlq = new DlqAdmin({ address, token: 't' });
    try {
      const streamed: RedriveResponse[] = [];
      for await (const progress of dlq.redriveProgress({ topic: 'orders', subscription: 'billing' })) streamed.push(progress);
      expect(streamed.map((p) => [p.redriven, p.done])).toEqual([[1, false], [3, true]]);
      const seenProgress: number[] = [];
      const last = await dlq.redrive({ topic: 'orders', subscription: 'billing' }, { onProgress: (p) => seenProgress.push(p.redriven) });
      expect(seenProgress).toEqual([1, 3]);
      expect(last).toMatchObject({ total: 3, redriven: 3, done: true });
    } finally {
      dlq.close();
    }
  });

  it('creates an alert rule from a partial request', async () => {
    const dlq = new DlqAdmin({ address });
    try {
      const created = await dlq.createAlertRule({ topic: 'orders', subscription: 'billing', metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 100, actor: 'alice' });
      expect(created).toMatchObject({ id: 'r1', metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: 100, clearThreshold: 100, createdBy: 'alice', webhooks: [] });
    } finally {
      dlq.close();
    }
  });
});
