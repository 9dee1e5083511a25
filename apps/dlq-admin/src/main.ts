/** Entry point of the dlq-admin: wiring only. */
import { runApp } from '@braid/server';
import { dlqAdminConfigSpec } from './config.js';
import { startDlqAdmin } from './dlq-admin-app.js';

await runApp({ name: 'dlq-admin', spec: dlqAdminConfigSpec, argv: process.argv, env: process.env, start: startDlqAdmin });
