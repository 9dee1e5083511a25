import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from './app-options.js';
import { ConfigError, parseConfig } from './config.js';

const spec = {
  name: 'test-app',
  description: 'a test app',
  options: serverAppOptions({ envPrefix: 'TEST', port: 7499, dataDir: './data/test' }),
  schema: z.object(serverAppSchema),
};

const argv = (...args: string[]): string[] => ['node', 'main.js', ...args];

describe('serverAppOptions', () => {
  it('leaves the metrics endpoint off by default', () => {
    expect(parseConfig(spec, argv(), {})).toEqual({ host: '127.0.0.1', port: 7499, dataDir: './data/test', logLevel: 'info', metricsPort: undefined });
    // An empty variable is no value.
    expect(parseConfig(spec, argv(), { BRAID_TEST_METRICS_PORT: '' }).metricsPort).toBeUndefined();
  });

  it('takes --metrics-port from the flag or BRAID_<APP>_METRICS_PORT, 0 included', () => {
    expect(parseConfig(spec, argv('--metrics-port', '9464'), {}).metricsPort).toBe(9464);
    expect(parseConfig(spec, argv(), { BRAID_TEST_METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(parseConfig(spec, argv('--metrics-port', '9465'), { BRAID_TEST_METRICS_PORT: '0' }).metricsPort).toBe(9465);
  });

  it('refuses a metrics port that is no port, naming the flag and the variable', () => {
    expect(() => parseConfig(spec, argv('--metrics-port', 'prometheus'), {})).toThrow(/--metrics-port \/ BRAID_TEST_METRICS_PORT/);
    expect(() => parseConfig(spec, argv(), { BRAID_TEST_METRICS_PORT: '70000' })).toThrow(ConfigError);
  });

  it('documents the option in --help', () => {
    let out = '';
    expect(() => parseConfig(spec, argv('--help'), {}, (text) => { out += text; })).toThrow(ConfigError);
    expect(out).toMatch(/--metrics-port <port>\s+serve Prometheus metrics/);
    expect(out).toContain('BRAID_TEST_METRICS_PORT');
  });
});
