/** The broker's configuration: flags and `BRAID_BROKER_*` variables. */
import { z } from 'zod';
import { requireAdvertisedAddress, serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';

const schema = z.object({
  ...serverAppSchema,
  coordinator: z.string().transform((value, context) => {
    const addresses = value.split(',').map((entry) => entry.trim());
    if (addresses.some((entry) => entry === '')) {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} has an empty entry (list coordinators as host:port,host:port)` });
    }
    return addresses;
  }),
  brokerId: z.string().regex(/^[A-Za-z0-9._-]*$/, 'may only contain A-Z, a-z, 0-9, ".", "_" and "-"'),
  advertisedAddress: z.string(),
  memoryWatermarkBytes: z.coerce.number().int('must be an integer').min(1024 * 1024, 'must be at least 1 MiB'),
  heartbeatIntervalMs: z.coerce.number().int().min(100, 'must be at least 100'),
  retentionCheckIntervalMs: z.coerce.number().int().min(10, 'must be at least 10'),
  forwardToLeader: z.union([z.boolean(), z.stringbool()]),
  tailCacheBytes: z.coerce.number().int('must be an integer').min(0, 'must not be negative'),
}).superRefine(requireAdvertisedAddress);

/** Validated broker configuration. */
export type BrokerConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `BrokerConfig`. */
export const brokerConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-broker',
  description: 'Braid broker: partition logs, delivery state and dispatch to consumers.',
  options: [
    ...serverAppOptions({ envPrefix: 'BROKER', port: 7401, dataDir: './data/broker' }),
    {
      key: 'coordinator',
      flag: '--coordinator <host:port,...>',
      env: 'BRAID_COORDINATOR',
      description: 'coordinator address, or several (comma-separated) of which one leads: the broker follows the leader',
      default: 'localhost:7400',
    },
    {
      key: 'brokerId',
      flag: '--broker-id <id>',
      env: 'BRAID_BROKER_ID',
      description: 'stable broker id (default: generated once and kept in the data directory)',
      default: '',
    },
    {
      key: 'advertisedAddress',
      flag: '--advertised-address <host:port>',
      env: 'BRAID_BROKER_ADVERTISED_ADDRESS',
      description: 'address clients and other brokers use to reach this broker (default: host:port)',
      default: '',
    },
    {
      key: 'memoryWatermarkBytes',
      flag: '--memory-watermark-bytes <bytes>',
      env: 'BRAID_BROKER_MEMORY_WATERMARK_BYTES',
      description: 'refuse publishes with RESOURCE_EXHAUSTED while this many bytes are accepted but not yet durable',
      // Within the sized heap (apps/broker/package.json): what waits for a
      // write is held on the heap as well as in these bytes.
      default: String(64 * 1024 * 1024),
    },
    {
      key: 'heartbeatIntervalMs',
      flag: '--heartbeat-interval-ms <ms>',
      env: 'BRAID_BROKER_HEARTBEAT_INTERVAL_MS',
      description: 'how often the broker renews its lease with the coordinator',
      default: '2000',
    },
    {
      key: 'retentionCheckIntervalMs',
      flag: '--retention-check-interval-ms <ms>',
      env: 'BRAID_BROKER_RETENTION_CHECK_INTERVAL_MS',
      description: 'how often retention deletes records past a topic\'s age or size limit',
      default: '30000',
    },
    {
      key: 'forwardToLeader',
      flag: '--forward-to-leader',
      env: 'BRAID_BROKER_FORWARD_TO_LEADER',
      description: 'forwarding mode for thin clients: publish records of partitions led by another broker there, instead of answering NOT_LEADER',
      default: 'false',
    },
    {
      key: 'tailCacheBytes',
      flag: '--tail-cache-bytes <bytes>',
      env: 'BRAID_BROKER_TAIL_CACHE_BYTES',
      description: 'recently appended records kept in memory for consumers that keep up (all partitions together; 0 = off)',
      // Part of the sized heap (apps/broker/package.json), like the watermark.
      default: String(32 * 1024 * 1024),
    },
  ],
  schema,
};
