import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, status as Status } from '@grpc/grpc-js';
import type { ServiceError , Metadata} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicNotFoundError, fromGrpcError } from '@braid/core';
import { MemoryLogger } from '@braid/core/testing';
import {
  AdminServiceClient,
  AdminServiceService,
  ConsumerServiceClient,
  ConsumerServiceService,
  ProducerServiceClient,
  ProducerServiceService,
} from '@braid/proto';
import type { DescribeTopicResponse, ListTopicsResponse, PublishResponse, SubscribeResponse } from '@braid/proto';
import { createServer } from './create-server.js';
import type { BraidServer } from './create-server.js';
import { bidi, unary } from './handlers.js';
import { unimplementedService } from './unimplemented.js';

const require = createRequire(import.meta.url);

type HealthCheck = (req: { service: string }, cb: (e: ServiceError | null, r?: { status: string }) => void) => void;
type ReflectionCall = (metadata?: Metadata) => NodeJS.ReadWriteStream & {
  write(m: object): boolean;
  end(): void;
  on(event: 'data', cb: (m: { listServicesResponse?: { service: { name: string }[] } }) => void): void;
};

let server: BraidServer;
let address: string;
const logger = new MemoryLogger();

beforeAll(async () => {
  server = createServer({
    logger,
    services: [
      { name: 'braid.v1.ProducerService', definition: ProducerServiceService, implementation: unimplementedService(ProducerServiceService) },
      {
        name: 'braid.v1.AdminService',
        definition: AdminServiceService,
        implementation: unimplementedService(AdminServiceService, {
          listTopics: unary<unknown, ListTopicsResponse>(() => Promise.resolve({ topics: [] })),
          describeTopic: unary<{ name: string }, DescribeTopicResponse>((request) => Promise.reject(new TopicNotFoundError(request.name))),
          deleteTopic: unary(() => { throw new Error('kaboom'); }),
        }),
      },
      {
        name: 'braid.v1.ConsumerService',
        definition: ConsumerServiceService,
        implementation: {
          subscribe: bidi<unknown, SubscribeResponse>(() => Promise.reject(new TopicNotFoundError('nope'))),
        },
      },
    ],
  });
  const port = await server.listen('127.0.0.1', 0);
  address = `127.0.0.1:${port}`;
  server.setServing(true);
});

afterAll(async () => {
  await server.shutdown(1000);
});

function call<T>(fn: (cb: (error: ServiceError | null, response?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((error, response) => {
      if (error) reject(error);
      else resolve(response as T);
    });
  });
}

describe('createServer', () => {
  it('answers unimplemented RPCs with UNIMPLEMENTED naming the RPC', async () => {
    const client = new ProducerServiceClient(address, credentials.createInsecure());
    const error = await call<PublishResponse>((cb) => client.publish({ topic: 't', records: [], producerId: '', baseSequence: 0, leaderEpoch: 0, targetSubscription: '' }, cb)).catch(
      (e: unknown) => e,
    );
    expect(fromGrpcError(error).code).toBe(Status.UNIMPLEMENTED);
    expect(fromGrpcError(error).message).toContain('/braid.v1.ProducerService/Publish');
    client.close();
  });

  it('turns a thrown BraidError into its status and detail, and stays usable', async () => {
    const client = new AdminServiceClient(address, credentials.createInsecure());
    const error = fromGrpcError(await call((cb) => client.describeTopic({ name: 'orders' }, cb)).catch((e: unknown) => e));
    expect(error.code).toBe(Status.NOT_FOUND);
    expect(error.reason).toBe('TOPIC_NOT_FOUND');
    expect(error.metadata.topic).toBe('orders');
    // The same connection serves the next good request.
    await expect(call<ListTopicsResponse>((cb) => client.listTopics({}, cb))).resolves.toEqual({ topics: [] });
    client.close();
  });

  it('turns an unexpected throw into INTERNAL (never UNKNOWN) and logs it', async () => {
    const client = new AdminServiceClient(address, credentials.createInsecure());
    const error = fromGrpcError(await call((cb) => client.deleteTopic({ name: 'x' }, cb)).catch((e: unknown) => e));
    expect(error.code).toBe(Status.INTERNAL);
    expect(error.message).toContain('kaboom');
    expect(logger.entries.some((e) => e.level === 'error' && e.fields.method === '/braid.v1.AdminService/DeleteTopic')).toBe(true);
    client.close();
  });

  it('ends a failing bidi stream with the precise status', async () => {
    const client = new ConsumerServiceClient(address, credentials.createInsecure());
    const stream = client.subscribe();
    const error = await new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
    });
    expect(fromGrpcError(error).code).toBe(Status.NOT_FOUND);
    client.close();
  });

  it('serves grpc.health.v1.Health', async () => {
    const health = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => { check: HealthCheck; close(): void } } } };
    };
    const client = new health.grpc.health.v1.Health(address, credentials.createInsecure());
    await expect(call<{ status: string }>((cb) => { client.check({ service: '' }, cb); })).resolves.toEqual({ status: 'SERVING' });
    await expect(call<{ status: string }>((cb) => { client.check({ service: 'braid.v1.AdminService' }, cb); })).resolves.toEqual({
      status: 'SERVING',
    });
    client.close();
  });

  it('serves reflection listing the Braid services', async () => {
    const reflectionProto = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
    const pkg = loadPackageDefinition(loadSync(reflectionProto)) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => { serverReflectionInfo: ReflectionCall; close(): void } } } };
    };
    const client = new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
    const stream = client.serverReflectionInfo();
    const names = await new Promise<string[]>((resolve) => {
      stream.on('data', (message) => { resolve(message.listServicesResponse?.service.map((s) => s.name) ?? []); });
      stream.write({ listServices: '' });
    });
    stream.end();
    expect(names).toEqual(expect.arrayContaining(['braid.v1.ProducerService', 'braid.v1.ConsumerService', 'braid.v1.AdminService', 'grpc.health.v1.Health']));
    client.close();
  });
});

describe('malformed requests', () => {
  it('answers an undecodable frame with INVALID_ARGUMENT, not INTERNAL', async () => {
    const { makeGenericClientConstructor } = await import('@grpc/grpc-js');
    const Raw = makeGenericClientConstructor(
      {
        describeTopic: {
          path: '/braid.v1.AdminService/DescribeTopic',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Raw',
    );
    const client = new Raw(address, credentials.createInsecure()) as unknown as {
      describeTopic(req: Buffer, cb: (e: ServiceError | null) => void): void;
      close(): void;
    };
    // Field 1 (string) claiming 100 bytes but carrying 2.
    const error = await new Promise<ServiceError | null>((resolve) => { client.describeTopic(Buffer.from([0x0a, 0x64, 0x61, 0x62]), resolve); });
    expect(error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(error?.details).toContain('malformed /braid.v1.AdminService/DescribeTopic request');
    client.close();
  });
});
