/**
 * The dlq-admin's configuration: flags and `BRAID_DLQ_ADMIN_*` variables
 * (the admin token is `BRAID_ADMIN_TOKEN`, shared with other apps later).
 */
import { z } from 'zod';
import { serverAppOptions, serverAppSchema } from '@braid/server';
import type { ConfigSpec } from '@braid/server';
import { alertDefaults } from './alerts/alert-defaults.js';
import { dlqAdminDefaults } from './defaults.js';
import { httpServerDefaults } from './http/http-server.js';

const schema = z.object({
  ...serverAppSchema,
  brokers: z
    .string()
    .transform((value) => value.split(',').map((address) => address.trim()).filter((address) => address !== ''))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1, 'needs at least one host:port')),
  adminToken: z.string(),
  redriveLimit: z.coerce.number().int('must be an integer').min(1),
  pollIntervalMs: z.coerce.number().int('must be an integer').min(100),
  // Web console (apps/dlq-admin/src/http).
  httpPort: z.coerce.number().int('must be an integer').min(0).max(65535),
  consoleDir: z.string(),
  // Alerts (apps/dlq-admin/src/alerts).
  alertWebhooks: z
    .string()
    .transform((value) => value.split(',').map((url) => url.trim()).filter((url) => url !== ''))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be http or https URLs' }))),
  alertIntervalMs: z.coerce.number().int('must be an integer').min(100),
  alertWebhookDeadlineMs: z.coerce.number().int('must be an integer').min(1000),
});

/** Validated dlq-admin configuration. */
export type DlqAdminConfig = z.infer<typeof schema>;

/** What `parseConfig` needs to build a `DlqAdminConfig`. */
export const dlqAdminConfigSpec: ConfigSpec<typeof schema> = {
  name: 'braid-dlq-admin',
  description: 'Braid dlq-admin: dead-letter inspection, redrive, purge, alerts and audit log.',
  options: [
    ...serverAppOptions({ envPrefix: 'DLQ_ADMIN', port: 7402, dataDir: './data/dlq-admin' }),
    {
      key: 'brokers',
      flag: '--broker <host:port,...>',
      env: 'BRAID_DLQ_ADMIN_BROKERS',
      description: 'brokers (or coordinators) to bootstrap from, comma-separated',
      default: 'localhost:7401',
    },
    {
      key: 'adminToken',
      flag: '--admin-token <token>',
      env: 'BRAID_ADMIN_TOKEN',
      description: 'when set, mutating calls must carry "authorization: Bearer <token>" (prefer the variable: flags show in process lists)',
      default: '',
    },
    {
      key: 'redriveLimit',
      flag: '--redrive-limit <count>',
      env: 'BRAID_DLQ_ADMIN_REDRIVE_LIMIT',
      description: 'refuse to redrive a record redriven this many times already, unless forced',
      default: String(dlqAdminDefaults.redriveLimit),
    },
    {
      key: 'pollIntervalMs',
      flag: '--poll-interval-ms <ms>',
      env: 'BRAID_DLQ_ADMIN_POLL_INTERVAL_MS',
      description: 'how often to look for new dead-letter topics and records',
      default: String(dlqAdminDefaults.pollIntervalMs),
    },
    // Web console (apps/dlq-admin/src/http).
    {
      key: 'httpPort',
      flag: '--http-port <port>',
      env: 'BRAID_DLQ_ADMIN_HTTP_PORT',
      description: 'port of the web console and its JSON API, on --host (0 picks a free one)',
      default: String(httpServerDefaults.port),
    },
    {
      key: 'consoleDir',
      flag: '--console-dir <dir>',
      env: 'BRAID_DLQ_ADMIN_CONSOLE_DIR',
      description: "the console's built files (default: console/ beside main.js, where `nx build dlq-admin` puts them)",
      default: '',
    },
    // Alerts (apps/dlq-admin/src/alerts).
    {
      key: 'alertWebhooks',
      flag: '--alert-webhook <url,...>',
      env: 'BRAID_DLQ_ADMIN_ALERT_WEBHOOKS',
      description: 'webhooks (http or https URLs, comma-separated) that every alert notice is POSTed to, besides each rule\'s own',
      default: '',
    },
    {
      key: 'alertIntervalMs',
      flag: '--alert-interval-ms <ms>',
      env: 'BRAID_DLQ_ADMIN_ALERT_INTERVAL_MS',
      description: 'how often alert rules are checked',
      default: String(alertDefaults.intervalMs),
    },
    {
      key: 'alertWebhookDeadlineMs',
      flag: '--alert-webhook-deadline-ms <ms>',
      env: 'BRAID_DLQ_ADMIN_ALERT_WEBHOOK_DEADLINE_MS',
      description: 'how long an undelivered alert notice is retried (with backoff) before it is given up, counted from the event',
      default: String(alertDefaults.webhookDeadlineMs),
    },
  ],
  schema,
};
