import { describe, expect, it } from 'vitest';
import { z } from 'zod';
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
