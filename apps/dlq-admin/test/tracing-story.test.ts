// The whole story of one record in traces (issue 8): sent, nacked twice,
// rejected (dead-lettered), redriven by dlq-admin and acknowledged. The
// test process is the application (an in-memory exporter behind a
// registered SDK); the broker and dlq-admin export over OTLP/HTTP to a
// receiver started here, turned on by OTEL_* variables only. dlq-admin's
// `redrive` span links to the record's original `send`; the redriven
// record's publish, delivery and processing follow from it.
import { SpanKind } from '@opentelemetry/api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, DlqAdmin, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { StartPosition } from '@braid/proto';
import { attr } from '@braid/telemetry';
import { recordSpans } from '@braid/telemetry/testing';
import { OtlpReceiver, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster, ReceivedSpan } from '@braid/testkit';

const exporter = recordSpans();
let receiver: OtlpReceiver;
let cluster: LocalCluster;
let dlqAdmin: AppProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'braid-dlq-tracing-'));

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
  cluster = await startLocalCluster({ brokerEnv: otel });
  dlqAdmin = await startApp('dlq-admin', { args: ['--data-dir', dataDir, '--broker', cluster.broker.address, '--poll-interval-ms', '200'], env: otel });
}, 120_000);

afterAll(async () => {
  await dlqAdmin.kill9();
  await cluster.destroy();
  await receiver.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('one record in traces, through dlq-admin', () => {
  it('links the redrive to the original send, and the redriven delivery and processing follow from the redrive', async () => {
    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('story', { partitions: 1 });
    await admin.createSubscription('story', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy: { maxAttempts: 5, initialBackoffMs: 20, maxBackoffMs: 50 } });
    admin.close();
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('story', { key: 'user-1', value: 'create' });
    await producer.close();

    const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'story', subscription: 'billing' });
    const dlq = new DlqAdmin({ address: dlqAdmin.address });
    let redrove = false;
    for await (const message of consumer as AsyncIterable<Message>) {
      if (message.redriveCount === 0 && message.attempt < 3) message.nack({ reason: 'downstream 503', errorClass: 'HttpError' });
      else if (message.redriveCount === 0) {
        message.reject('poison', { errorClass: 'SchemaError' });
        // Once dlq-admin has indexed the dead letter, send it back.
        await expect.poll(async () => (await dlq.listQueues({ topic: 'story', refresh: true })).find((q) => q.subscription === 'billing')?.depth ?? 0, { timeout: 15_000 }).toBe(1);
        const done = await dlq.redrive({ topic: 'story', subscription: 'billing', selection: { selection: { $case: 'all', value: true } }, actor: 'test' });
        expect(done.redriven).toBe(1);
        redrove = true;
      } else {
        expect(message.redriveCount).toBe(1);
        message.ack();
        break;
      }
    }
    await consumer.close();
    dlq.close();
    expect(redrove).toBe(true);

    const client = exporter.getFinishedSpans();
    const send = client.find((s) => s.name === 'send story');
    const sendId = send?.spanContext().spanId ?? '';
    const originalTrace = send?.spanContext().traceId ?? '';
    const named = (name: string): ReceivedSpan[] => receiver.spans.filter((s) => s.name === name);
    await expect.poll(() => named('redrive story').length, { timeout: 15_000 }).toBe(1);
    const redrive = named('redrive story')[0];
    expect(redrive).toMatchObject({ service: 'braid-dlq-admin', kind: 4, attributes: { [attr.disposition]: 'redrive', [attr.consumerGroup]: 'billing' } });
    expect(redrive?.links).toEqual([{ traceId: originalTrace, spanId: sendId }]);
    // dlq-admin's producer sends inside the redrive span; the broker publishes as its child.
    const redriveSend = receiver.spans.find((s) => s.service === 'braid-dlq-admin' && s.name === 'send story');
    expect(redriveSend).toMatchObject({ traceId: redrive?.traceId, parentSpanId: redrive?.spanId });
    await expect.poll(() => named('publish story').filter((s) => s.parentSpanId === redriveSend?.spanId).length, { timeout: 15_000 }).toBe(1);

    // The application's processing: attempts 1-3 under the original send, then the redriven one under the redrive's send.
    const processes = client.filter((s) => s.name === 'process story');
    expect(processes.map((s) => [s.attributes[attr.attempt], s.spanContext().traceId])).toEqual([
      [1, originalTrace],
      [2, originalTrace],
      [3, originalTrace],
      [1, redrive?.traceId],
    ]);
    expect(processes[3]?.kind).toBe(SpanKind.CONSUMER);
    expect(processes[3]?.parentSpanContext?.spanId).toBe(redriveSend?.spanId);
    expect(client.filter((s) => s.name === 'settle story').map((s) => s.attributes[attr.disposition])).toEqual(['nack', 'nack', 'reject', 'ack']);
    // The broker dead-lettered the original (linked to its send) before the redrive.
    await expect.poll(() => named('dead_letter story').length, { timeout: 15_000 }).toBe(1);
    expect(named('dead_letter story')[0]?.links[0]?.spanId).toBe(sendId);
  }, 90_000);
});
