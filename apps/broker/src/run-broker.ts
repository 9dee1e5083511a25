/** Runs the broker process (loaded by `main.ts` once the environment is set). */
import { runApp } from '@braid/server';
import { startBroker } from './broker-app.js';
import { brokerConfigSpec } from './config.js';

await runApp({ name: 'broker', spec: brokerConfigSpec, argv: process.argv, env: process.env, start: startBroker });
