/** The dlq-admin's configuration: flags and `BRAID_DLQ_ADMIN_*` variables. */
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';

const schema = z.object({ ...serverAppSchema });

/** Validated dlq-admin configuration. */
export type DlqAdminConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `DlqAdminConfig`. */
export const dlqAdminConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-dlq-admin',
  description: 'Braid dlq-admin: dead-letter inspection, redrive, purge, alerts and audit log.',
  options: serverAppOptions({ envPrefix: 'DLQ_ADMIN', port: 7402, dataDir: './data/dlq-admin' }),
  schema,
};
