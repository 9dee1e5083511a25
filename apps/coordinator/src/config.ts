/** The coordinator's configuration: flags and `BRAID_COORDINATOR_*` variables. */
import { z } from 'zod';
import { requireAdvertisedAddress, serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';
import { clusterDefaults, electionDefaults, etcdStoreDefaults } from './defaults.js';
import { isHostPort } from './host-port.js';

/**
 * `--etcd-endpoints`: comma-separated `host:port` (an `http://` in front is
 * accepted, as etcdctl writes them); empty selects the embedded store.
 */
const etcdEndpoints = z.string().transform((value, context) => {
  if (value.trim() === '') return [];
  const endpoints: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const endpoint = entry.replace(/^http:\/\//, '');
    if (entry.startsWith('https://')) {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(entry)}: TLS to etcd is not supported yet; use http:// endpoints` });
    } else if (!isHostPort(endpoint)) {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not host:port with a port in 1-65535 (list endpoints as host:port,host:port)` });
    } else {
      endpoints.push(endpoint);
    }
  }
  return endpoints;
});

const schema = z.object({
  ...serverAppSchema,
  brokerLeaseMs: z.coerce.number().int('must be an integer').min(100, 'must be at least 100').max(600_000, 'must be at most 600000'),
  etcdEndpoints,
  etcdPrefix: z.string().min(1, 'must not be empty'),
  etcdDialTimeoutMs: z.coerce.number().int('must be an integer').min(100, 'must be at least 100').max(600_000, 'must be at most 600000'),
  etcdLeaseTtlS: z.coerce.number().int('must be an integer').min(2, 'must be at least 2').max(600, 'must be at most 600'),
  advertisedAddress: z.string().refine((value) => value === '' || isHostPort(value), 'must be host:port with a port in 1-65535'),
}).superRefine((config, context) => {
  // Only a coordinator on etcd publishes its address (standbys name the leader).
  if (config.etcdEndpoints.length > 0) requireAdvertisedAddress(config, context);
});

/** Validated coordinator configuration. */
export type CoordinatorConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `CoordinatorConfig`. */
export const coordinatorConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-coordinator',
  description: 'Braid coordinator: cluster metadata: brokers and their leases, topics, partition leaders and epochs, subscription settings.',
  options: [
    ...serverAppOptions({ envPrefix: 'COORDINATOR', port: 7400, dataDir: './data/coordinator' }),
    {
      key: 'brokerLeaseMs',
      flag: '--broker-lease-ms <ms>',
      env: 'BRAID_COORDINATOR_BROKER_LEASE_MS',
      description: 'lease of a registered broker: one that sends no heartbeat for this long is marked down (100-600000)',
      default: String(clusterDefaults.brokerLeaseMs),
    },
    {
      key: 'etcdEndpoints',
      flag: '--etcd-endpoints <host:port,...>',
      env: 'BRAID_COORDINATOR_ETCD_ENDPOINTS',
      description: 'keep the metadata in etcd at these client endpoints instead of the embedded store under --data-dir',
      default: '',
    },
    {
      key: 'etcdPrefix',
      flag: '--etcd-prefix <prefix>',
      env: 'BRAID_COORDINATOR_ETCD_PREFIX',
      description: 'etcd key prefix of this cluster\'s metadata (with --etcd-endpoints)',
      default: etcdStoreDefaults.prefix,
    },
    {
      key: 'etcdDialTimeoutMs',
      flag: '--etcd-dial-timeout-ms <ms>',
      env: 'BRAID_COORDINATOR_ETCD_DIAL_TIMEOUT_MS',
      description: 'how long to keep trying to reach etcd at start before failing (100-600000; with --etcd-endpoints)',
      default: String(etcdStoreDefaults.dialTimeoutMs),
    },
    {
      key: 'etcdLeaseTtlS',
      flag: '--etcd-lease-ttl-s <seconds>',
      env: 'BRAID_COORDINATOR_ETCD_LEASE_TTL_S',
      description:
        'TTL of the etcd lease behind the leader election (2-600; with --etcd-endpoints): a dead leader is replaced about this long after it died, and a leader cut off from etcd this long exits',
      default: String(electionDefaults.leaseTtlSeconds),
    },
    {
      key: 'advertisedAddress',
      flag: '--advertised-address <host:port>',
      env: 'BRAID_COORDINATOR_ADVERTISED_ADDRESS',
      description: 'address brokers and clients reach this coordinator at, published in the leader election (default: host:port)',
      default: '',
    },
  ],
  schema,
};
