/** Entry point of the coordinator: wiring only. */
import { runApp } from '@braid/server';
import { coordinatorConfigSpec } from './config.js';
import { startCoordinator } from './coordinator-app.js';

await runApp({ name: 'coordinator', spec: coordinatorConfigSpec, argv: process.argv, env: process.env, activeSpans: false, start: startCoordinator });
