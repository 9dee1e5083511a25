/** The coordinator's configuration: flags and `BRAID_COORDINATOR_*` variables. */
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';

const schema = z.object({ ...serverAppSchema });

/** Validated coordinator configuration. */
export type CoordinatorConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `CoordinatorConfig`. */
export const coordinatorConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-coordinator',
  description: 'Braid coordinator: cluster metadata: brokers and their leases, topics, partition leaders and epochs, subscription settings.',
  options: serverAppOptions({ envPrefix: 'COORDINATOR', port: 7400, dataDir: './data/coordinator' }),
  schema,
};
