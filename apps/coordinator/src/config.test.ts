import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@braid/server';
import { coordinatorConfigSpec } from './config.js';

const argv = (...args: string[]): string[] => ['node', 'main.js', ...args];
const parse = (args: string[], env: Record<string, string> = {}) => parseConfig(coordinatorConfigSpec, argv(...args), env);

function configError(args: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parse(args, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('coordinator configuration: the metadata store', () => {
  it('uses the embedded store unless etcd endpoints are given', () => {
    expect(parse([])).toMatchObject({ etcdEndpoints: [], etcdPrefix: '/braid/', etcdDialTimeoutMs: 5000 });
  });

  it('takes etcd endpoints as host:port (http:// accepted), the flag winning over BRAID_COORDINATOR_ETCD_ENDPOINTS', () => {
    expect(parse(['--etcd-endpoints', 'etcd-1:2379, http://10.0.0.2:2379,[::1]:2379']).etcdEndpoints).toEqual(['etcd-1:2379', '10.0.0.2:2379', '[::1]:2379']);
    expect(parse([], { BRAID_COORDINATOR_ETCD_ENDPOINTS: 'e:1' }).etcdEndpoints).toEqual(['e:1']);
    expect(parse(['--etcd-endpoints', 'flag:2'], { BRAID_COORDINATOR_ETCD_ENDPOINTS: 'env:1' }).etcdEndpoints).toEqual(['flag:2']);
    expect(parse(['--etcd-prefix', '/prod/braid/', '--etcd-dial-timeout-ms', '250'])).toMatchObject({ etcdPrefix: '/prod/braid/', etcdDialTimeoutMs: 250 });
    expect(parse([], { BRAID_COORDINATOR_ETCD_PREFIX: '/env/', BRAID_COORDINATOR_ETCD_DIAL_TIMEOUT_MS: '900' })).toMatchObject({ etcdPrefix: '/env/', etcdDialTimeoutMs: 900 });
  });

  it('refuses bad etcd settings with exit code 2, naming the flag, the variable and the bad entry', () => {
    for (const [value, why] of [
      ['localhost', '"localhost" is not host:port'],
      ['a:2379,,b:2379', '"" is not host:port'],
      ['a:0', '"a:0" is not host:port with a port in 1-65535'],
      ['a:2379;b:2379', 'is not host:port'],
      ['https://a:2379', 'TLS to etcd is not supported yet'],
    ] as const) {
      const error = configError(['--etcd-endpoints', value]);
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain('--etcd-endpoints / BRAID_COORDINATOR_ETCD_ENDPOINTS');
      expect(error.message).toContain(why);
    }
    expect(configError([], { BRAID_COORDINATOR_ETCD_ENDPOINTS: 'nope' }).message).toContain('--etcd-endpoints / BRAID_COORDINATOR_ETCD_ENDPOINTS');
    expect(configError(['--etcd-prefix', '']).message).toContain('--etcd-prefix / BRAID_COORDINATOR_ETCD_PREFIX: must not be empty');
    expect(configError(['--etcd-dial-timeout-ms', '5']).message).toContain('--etcd-dial-timeout-ms / BRAID_COORDINATOR_ETCD_DIAL_TIMEOUT_MS: must be at least 100');
  });

  it('takes the election lease TTL (default 5 s) and an advertised address', () => {
    expect(parse([])).toMatchObject({ etcdLeaseTtlS: 5, advertisedAddress: '' });
    expect(parse(['--etcd-lease-ttl-s', '3', '--advertised-address', 'coord-1:7400'])).toMatchObject({ etcdLeaseTtlS: 3, advertisedAddress: 'coord-1:7400' });
    expect(parse([], { BRAID_COORDINATOR_ETCD_LEASE_TTL_S: '7' }).etcdLeaseTtlS).toBe(7);
    expect(configError(['--etcd-lease-ttl-s', '1']).message).toContain('--etcd-lease-ttl-s / BRAID_COORDINATOR_ETCD_LEASE_TTL_S: must be at least 2');
    expect(configError(['--advertised-address', 'nohost']).message).toContain('--advertised-address / BRAID_COORDINATOR_ADVERTISED_ADDRESS');
  });
});
