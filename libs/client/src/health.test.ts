import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from './health.js';

let server: Server;
let address: string;
const health = new HealthImplementation({ '': 'SERVING', 'braid.v1.ProducerService': 'NOT_SERVING' });

beforeAll(async () => {
  server = new Server();
  health.addToServer(server);
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

describe('checkHealth', () => {
  it('reports the overall and per-service status', async () => {
    await expect(checkHealth(address)).resolves.toBe('SERVING');
    await expect(checkHealth(address, { service: 'braid.v1.ProducerService' })).resolves.toBe('NOT_SERVING');
    health.setStatus('braid.v1.ProducerService', 'SERVING');
    await expect(checkHealth(address, { service: 'braid.v1.ProducerService' })).resolves.toBe('SERVING');
  });

  it('rejects with NOT_FOUND for an unknown service', async () => {
    await expect(checkHealth(address, { service: 'nope' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  it('rejects with a retriable UNAVAILABLE when nothing listens', async () => {
    const probe = new Server();
    const port = await new Promise<number>((resolve, reject) => {
      probe.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    probe.forceShutdown();
    await expect(checkHealth(`127.0.0.1:${port}`, { timeoutMs: 2000 })).rejects.toMatchObject({ retriable: true });
  });
});
