import { describe, expect, it } from 'vitest';
import {
  AdminServiceService,
  ConsumerServiceService,
  CoordinatorServiceService,
  DlqAdminServiceService,
  ProducerServiceService,
  PublishRequest,
  SubscribeRequest,
  braidFileDescriptorSetBase64,
} from './index.js';

describe('generated contract', () => {
  it('round-trips a publish batch through the wire format', () => {
    const request = PublishRequest.fromPartial({
      topic: 'posts',
      records: [{ key: Buffer.from('user-1'), value: Buffer.from('hello'), headers: { traceparent: 'x' } }],
      producerId: 'p1',
      partition: 3,
      baseSequence: 42,
    });
    const decoded = PublishRequest.decode(PublishRequest.encode(request).finish());
    expect(decoded.topic).toBe('posts');
    expect(decoded.partition).toBe(3);
    expect(decoded.baseSequence).toBe(42);
    expect(Buffer.from(decoded.records[0]?.key ?? []).toString()).toBe('user-1');
    expect(decoded.records[0]?.headers).toEqual({ traceparent: 'x' });
  });

  it('models the subscribe oneof as a discriminated union', () => {
    const bytes = SubscribeRequest.encode({ kind: { $case: 'credit', value: { records: 10, bytes: 0 } } }).finish();
    expect(SubscribeRequest.decode(bytes).kind).toEqual({ $case: 'credit', value: { records: 10, bytes: 0 } });
  });

  it('exposes every service with its full method paths', () => {
    expect(ProducerServiceService.publish.path).toBe('/braid.v1.ProducerService/Publish');
    expect(ConsumerServiceService.subscribe.path).toBe('/braid.v1.ConsumerService/Subscribe');
    expect(AdminServiceService.createTopic.path).toBe('/braid.v1.AdminService/CreateTopic');
    expect(CoordinatorServiceService.registerBroker.path).toBe('/braid.v1.CoordinatorService/RegisterBroker');
    expect(DlqAdminServiceService.redrive.path).toBe('/braid.v1.DlqAdminService/Redrive');
  });

  it('ships a descriptor set that names every proto file', () => {
    const text = Buffer.from(braidFileDescriptorSetBase64, 'base64').toString('latin1');
    for (const file of ['common', 'producer', 'consumer', 'admin', 'coordinator', 'dlq_admin']) {
      expect(text).toContain(`braid/v1/${file}.proto`);
    }
  });
});
