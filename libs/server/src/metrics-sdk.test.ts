import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '@braid/core/testing';
import { metricsUrl, startMetrics } from './metrics-sdk.js';
import type { Metrics } from './metrics-sdk.js';

const local = { host: '127.0.0.1', port: 0 };
let started: Metrics | undefined;

afterEach(async () => {
  await started?.shutdown();
  started = undefined;
});

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

describe('startMetrics', () => {
  it('does nothing without a port', async () => {
    const logger = new MemoryLogger();
    expect(await startMetrics('test', undefined, {}, logger)).toBeUndefined();
    expect(logger.entries).toEqual([]);
  });

  it('serves instruments created after it started as Prometheus text on a free port, and logs the URL', async () => {
    const logger = new MemoryLogger();
    started = await startMetrics('test', local, {}, logger);
    expect(started?.port).toBeGreaterThan(0);
    expect(started?.url).toBe(`http://127.0.0.1:${started?.port ?? 0}/metrics`);
    expect(logger.entries).toEqual([{ level: 'info', fields: { metricsUrl: started?.url }, message: 'metrics on' }]);
    metrics.getMeter('braid').createCounter('braid.test.things', { unit: '{thing}' }).add(3, { 'messaging.destination.name': 'orders' });

    const text = await scrape(started?.url ?? '');
    expect(text).toMatch(/^# TYPE braid_test_things_total counter$/m);
    expect(text).toMatch(/^braid_test_things_total\{messaging_destination_name="orders",otel_scope_name="braid"\} 3$/m);
    expect(text).toMatch(/^target_info\{.*service_name="braid-test".*\} 1$/m);
  });

  it('names the service OTEL_SERVICE_NAME when set', async () => {
    started = await startMetrics('test', local, { OTEL_SERVICE_NAME: 'billing-broker' }, new MemoryLogger());
    expect(await scrape(started?.url ?? '')).toMatch(/^target_info\{.*service_name="billing-broker".*\} 1$/m);
  });

  it('answers 404 elsewhere and 405 to methods other than GET and HEAD', async () => {
    started = await startMetrics('test', local, {}, new MemoryLogger());
    const url = started?.url ?? '';
    expect((await fetch(new URL('/metric', url))).status).toBe(404);
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${url}?name=x`)).status).toBe(200);
  });

  it('releases the port on shutdown, also with a scraper\'s keep-alive connection open', async () => {
    const endpoint = await startMetrics('test', local, {}, new MemoryLogger());
    const url = endpoint?.url ?? '';
    await scrape(url);
    await endpoint?.shutdown();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      await expect(startMetrics('test', { host: '127.0.0.1', port }, {}, new MemoryLogger())).rejects.toThrow(/EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});

describe('metricsUrl', () => {
  it('brackets IPv6 hosts', () => {
    expect(metricsUrl('::1', 9464)).toBe('http://[::1]:9464/metrics');
    expect(metricsUrl('[::]', 9464)).toBe('http://[::]:9464/metrics');
    expect(metricsUrl('0.0.0.0', 9464)).toBe('http://0.0.0.0:9464/metrics');
  });
});
