/** The coordinator's configuration: flags and `BRAID_COORDINATOR_*` variables. */
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';
import { clusterDefaults } from './defaults.js';

const schema = z.object({
  ...serverAppSchema,
  brokerLeaseMs: z.coerce.number().int('must be an integer').min(100, 'must be at least 100').max(600_000, 'must be at most 600000'),
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
  ],
  schema,
};
