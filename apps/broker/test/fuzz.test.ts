// 10,000 random and mutated protobuf frames to each of the broker's RPCs:
// every one gets a gRPC status (never UNKNOWN), no process crashes, and the
// broker serves good requests afterwards.
import { credentials, makeGenericClientConstructor, status as Status } from '@grpc/grpc-js';
import type { ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@braid/core';
import type { Random } from '@braid/core';
import { AdminServiceService, ConsumerServiceService, ProducerServiceService, PublishRequest } from '@braid/proto';
import { checkHealth } from '@braid/client';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { clients, createTopic, publish } from './grpc-helpers.js';

const framesPerRpc = 10_000;
const concurrency = 64;

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster();
  const api = clients(cluster.broker.address);
  await createTopic(api.admin, 'fuzz', { partitions: 4, maxRecordBytes: 4096 });
  api.close();
});

afterAll(async () => {
  await cluster.destroy();
});

const valid = Buffer.from(
  PublishRequest.encode(
    PublishRequest.fromPartial({
      topic: 'fuzz',
      records: [{ key: Buffer.from('k1'), value: Buffer.from('hello world'), headers: { a: 'b' } }, { value: Buffer.from('x'), partition: 3 }],
      producerId: '',
    }),
  ).finish(),
);

function frame(random: Random, i: number): Buffer {
  const int = (n: number): number => Math.floor(random.next() * n);
  if (i % 2 === 0) {
    const bytes = Buffer.alloc(int(64));
    for (let b = 0; b < bytes.length; b++) bytes[b] = int(256);
    return bytes;
  }
  const mutated = Buffer.from(valid);
  const mutations = 1 + int(4);
  for (let m = 0; m < mutations; m++) {
    const at = int(mutated.length);
    switch (int(3)) {
      case 0:
        mutated[at] = (mutated[at] ?? 0) ^ (1 << int(8));
        break;
      case 1:
        mutated[at] = int(256);
        break;
      default:
        return mutated.subarray(0, at);
    }
  }
  return mutated;
}

type RawClient = Record<string, (...args: unknown[]) => NodeJS.EventEmitter & { write(b: Buffer): boolean; end(): void }> & { close(): void };

function rawClient(address: string, definition: ServiceDefinition): RawClient {
  const identity = (b: Buffer): Buffer => b;
  const raw: ServiceDefinition = Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      { ...method, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    ]),
  );
  const Client = makeGenericClientConstructor(raw, 'Raw');
  return new Client(address, credentials.createInsecure()) as unknown as RawClient;
}

async function fuzzRpc(address: string, definition: ServiceDefinition, name: string, seed: number): Promise<Map<string, number>> {
  const method = definition[name];
  if (!method) throw new Error(`no method ${name}`);
  const client = rawClient(address, definition);
  const codes = new Map<string, number>();
  const random = seededRandom(seed);
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise<void>((resolve) => {
      let recorded = false;
      const record = (error: ServiceError | null | undefined): void => {
        // A stream may report both 'error' and 'end'; count each call once.
        if (recorded) return;
        recorded = true;
        const code = error ? Status[error.code] : 'OK';
        codes.set(code, (codes.get(code) ?? 0) + 1);
        resolve();
      };
      const fn = client[name];
      if (!fn) throw new Error(`no client method ${name}`);
      const options = { deadline: Date.now() + 10_000 };
      if (!method.requestStream && !method.responseStream) {
        fn.call(client, frame(random, i), options, (error: ServiceError | null) => { record(error); });
      } else {
        // Streams: a few frames per stream, then half-close; the status ends it.
        const call = fn.call(client, options);
        call.on('data', () => undefined);
        call.on('error', (error: ServiceError) => { record(error); });
        call.on('end', () => { record(undefined); });
        call.write(frame(random, i));
        call.end();
      }
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < framesPerRpc) await one(next++);
  });
  await Promise.all(workers);
  client.close();
  return codes;
}

describe('fuzzing the broker', () => {
  const rpcs: [string, ServiceDefinition, string][] = [
    ['Publish', ProducerServiceService, 'publish'],
    ['PublishStream', ProducerServiceService, 'publishStream'],
    ['Subscribe', ConsumerServiceService, 'subscribe'],
    ...Object.keys(AdminServiceService).map((name): [string, ServiceDefinition, string] => [name, AdminServiceService, name]),
  ];

  it.each(rpcs)('%s: every frame gets a status, nothing crashes', async (_label, definition, name) => {
    const codes = await fuzzRpc(cluster.broker.address, definition, name, name.length * 7919);
    let total = 0;
    for (const count of codes.values()) total += count;
    expect(total).toBe(framesPerRpc);
    // No call may end in UNKNOWN (an unhandled throw) or UNAVAILABLE (a crash).
    expect(codes.get('UNKNOWN') ?? 0, JSON.stringify([...codes])).toBe(0);
    expect(codes.get('UNAVAILABLE') ?? 0, JSON.stringify([...codes])).toBe(0);
    expect(cluster.broker.alive).toBe(true);
    expect(cluster.coordinator.alive).toBe(true);
  });

  it('still serves good requests afterwards', async () => {
    await expect(checkHealth(cluster.broker.address)).resolves.toBe('SERVING');
    const api = clients(cluster.broker.address);
    // (A mutated frame sent to DeleteTopic may well have deleted "fuzz".)
    await createTopic(api.admin, 'after-fuzz', { partitions: 1 });
    const response = await publish(api.producer, { topic: 'after-fuzz', records: [{ value: Buffer.from('after'), headers: {} }] });
    expect(response.results).toHaveLength(1);
    api.close();
  });
});
