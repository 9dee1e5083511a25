/** The broker's configuration: flags and `BRAID_BROKER_*` variables. */
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';

const schema = z.object({ ...serverAppSchema });

/** Validated broker configuration. */
export type BrokerConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `BrokerConfig`. */
export const brokerConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-broker',
  description: 'Braid broker: partition logs, delivery state and dispatch to consumers.',
  options: serverAppOptions({ envPrefix: 'BROKER', port: 7401, dataDir: './data/broker' }),
  schema,
};
