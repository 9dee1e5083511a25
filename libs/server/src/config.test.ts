import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requireAdvertisedAddress } from './app-options.js';
import { ConfigError, parseConfig } from './config.js';

const spec = {
  name: 'test-app',
  description: 'a test app',
  options: [
    { key: 'port', flag: '--port <number>', env: 'BRAID_TEST_PORT', description: 'port', default: '7401' },
    { key: 'host', flag: '--host <host>', env: 'BRAID_TEST_HOST', description: 'host', default: '127.0.0.1' },
  ],
  schema: z.object({ port: z.coerce.number().int().min(0).max(65535), host: z.string().min(1) }),
};

const argv = (...args: string[]): string[] => ['node', 'main.js', ...args];

describe('parseConfig', () => {
  it('takes defaults, then env, then flags', () => {
    expect(parseConfig(spec, argv(), {})).toEqual({ port: 7401, host: '127.0.0.1' });
    expect(parseConfig(spec, argv(), { BRAID_TEST_PORT: '9000' })).toEqual({ port: 9000, host: '127.0.0.1' });
    expect(parseConfig(spec, argv('--port', '9001'), { BRAID_TEST_PORT: '9000' })).toEqual({ port: 9001, host: '127.0.0.1' });
  });

  it('names the flag, the variable and the value when validation fails', () => {
    expect(() => parseConfig(spec, argv(), { BRAID_TEST_PORT: 'seventy' })).toThrow(/--port \/ BRAID_TEST_PORT.*"seventy"/s);
    expect(() => parseConfig(spec, argv('--port', '70000'), {})).toThrow(ConfigError);
  });

  it('rejects unknown flags with exit code 2', () => {
    try {
      parseConfig(spec, argv('--nope'), {}, () => undefined);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
    }
  });

  it('prints help mentioning env variables and exits 0', () => {
    let out = '';
    try {
      parseConfig(spec, argv('--help'), {}, (text) => { out += text; });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).exitCode).toBe(0);
    }
    expect(out).toContain('BRAID_TEST_PORT');
  });
});

describe('requireAdvertisedAddress', () => {
  const advertised = {
    ...spec,
    options: [...spec.options, { key: 'advertisedAddress', flag: '--advertised-address <host:port>', env: 'BRAID_TEST_ADVERTISED_ADDRESS', description: 'address', default: '' }],
    schema: z.object({ port: z.coerce.number(), host: z.string(), advertisedAddress: z.string() }).superRefine(requireAdvertisedAddress),
  };

  it('refuses a wildcard host without an advertised address, naming the flag and variable', () => {
    expect(() => parseConfig(advertised, argv('--host', '0.0.0.0'), {})).toThrow(/--advertised-address \/ BRAID_TEST_ADVERTISED_ADDRESS: required when listening on 0\.0\.0\.0/);
    expect(() => parseConfig(advertised, argv('--host', '::'), {})).toThrow(ConfigError);
  });

  it('accepts a wildcard host with an advertised address, and a concrete host without one', () => {
    expect(parseConfig(advertised, argv('--host', '0.0.0.0', '--advertised-address', 'b1.example:7401'), {}).advertisedAddress).toBe('b1.example:7401');
    expect(parseConfig(advertised, argv('--host', '10.0.0.5'), {}).advertisedAddress).toBe('');
  });
});
