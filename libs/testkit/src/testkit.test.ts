import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { ServiceDefinition, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { callEveryRpc, freePort, runCli, startApp, startEtcd } from './index.js';

describe('freePort', () => {
  it('returns a port that can be bound on loopback', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(port).toBeGreaterThan(0);
  });
});

describe('startApp', () => {
  it('fails with the app output when the app exits before serving', async () => {
    await expect(startApp('broker', { args: ['--log-level', 'loud'] })).rejects.toThrow(/exited before serving[\s\S]*--log-level/);
  });

  it('starts an app, reports its pid and stops it by signal', async () => {
    const app = await startApp('coordinator');
    expect(app.pid).toBeGreaterThan(0);
    expect(app.alive).toBe(true);
    const exit = await app.stop();
    expect(exit.code).toBe(0);
    expect(app.alive).toBe(false);
  });
});

describe('startEtcd', () => {
  const base64 = (text: string): string => Buffer.from(text).toString('base64');
  /** etcd's JSON gateway (`/v3/kv/...`), so this test needs no etcd client. */
  async function kv(endpoint: string, op: 'put' | 'range', body: Record<string, string>): Promise<{ kvs?: { value: string }[] }> {
    const response = await fetch(`http://${endpoint}/v3/kv/${op}`, { method: 'POST', body: JSON.stringify(body) });
    return (await response.json()) as { kvs?: { value: string }[] };
  }
  const isRunning = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      // ESRCH: no such process.
      return false;
    }
  };

  it('starts a healthy etcd on loopback, stops it by PID and removes its temporary data directory', async () => {
    const etcd = await startEtcd();
    expect(etcd.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(isRunning(etcd.pid)).toBe(true);
    expect(existsSync(etcd.dataDir)).toBe(true);
    await kv(etcd.endpoint, 'put', { key: base64('k'), value: base64('v') });
    expect((await kv(etcd.endpoint, 'range', { key: base64('k') })).kvs?.[0]?.value).toBe(base64('v'));
    await etcd.stop();
    expect(etcd.alive).toBe(false);
    expect(isRunning(etcd.pid)).toBe(false);
    expect(existsSync(etcd.dataDir)).toBe(false);
  });

  it('kill9 ends it at once and keeps a data directory passed in, so etcd restarts on it with its data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'braid-testkit-etcd-'));
    try {
      const first = await startEtcd({ dataDir });
      await kv(first.endpoint, 'put', { key: base64('kept'), value: base64('yes') });
      await first.kill9();
      expect(first.alive).toBe(false);
      expect(existsSync(dataDir)).toBe(true);
      const second = await startEtcd({ dataDir, clientPort: first.clientPort });
      try {
        expect(second.endpoint).toBe(first.endpoint);
        expect((await kv(second.endpoint, 'range', { key: base64('kept') })).kvs?.[0]?.value).toBe(base64('yes'));
      } finally {
        await second.stop();
      }
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('fails with the install command when the etcd binary is missing, rather than skipping', async () => {
    await expect(startEtcd({ binary: '/nonexistent/etcd' })).rejects.toThrow('etcd is not installed at /nonexistent/etcd: install it with `apt-get install -y etcd-server`');
  });
});

describe('runCli', () => {
  it('returns exit code and output', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: braid');
  });
});

describe('callEveryRpc', () => {
  interface EchoRequest {
    name: string;
    count: number;
  }
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  // The empty message decodes to every field at its default, as a protobuf decoder's would.
  const decode = (bytes: Buffer): EchoRequest => ({ name: '', count: 0, ...(bytes.length === 0 ? {} : (JSON.parse(bytes.toString()) as Partial<EchoRequest>)) });
  const method = (name: string) => ({
    path: `/test.Echo/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: json,
    requestDeserialize: decode,
    responseSerialize: json,
    responseDeserialize: decode,
  });
  const definition: ServiceDefinition = { echo: method('Echo'), other: method('Other') };

  it('calls every RPC with the empty request, or with the fields set for it', async () => {
    const server = new Server();
    // Every call fails with the request it received, so the test sees what was sent.
    const answer = (call: ServerUnaryCall<EchoRequest, EchoRequest>, callback: sendUnaryData<EchoRequest>): void => {
      callback({ code: Status.INVALID_ARGUMENT, details: `name=${call.request.name} count=${call.request.count}` });
    };
    server.addService(definition, { echo: answer, other: answer });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => { if (error) reject(error); else resolve(bound); });
    });
    try {
      const address = `127.0.0.1:${port}`;
      const outcomes = await callEveryRpc(address, definition, { requests: { echo: { name: 'x' } } });
      expect(outcomes.map(({ path, error }) => [path, error?.code, error?.message])).toEqual([
        ['/test.Echo/Echo', Status.INVALID_ARGUMENT, 'name=x count=0'],
        ['/test.Echo/Other', Status.INVALID_ARGUMENT, 'name= count=0'],
      ]);
      await expect(callEveryRpc(address, definition, { requests: { ecoh: {} } })).rejects.toThrow('the service has no method ecoh');
    } finally {
      server.forceShutdown();
    }
  });
});
