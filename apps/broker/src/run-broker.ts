/** Runs the broker process (loaded by `main.ts` once the environment is set). */
import { runApp } from '@braid/server';
import { startBroker } from './broker-app.js';
import { brokerConfigSpec } from './config.js';

// The broker gives its spans explicit parents and links and never runs work
// inside an active span: no context manager (see TracingOptions.activeSpans).
await runApp({ name: 'broker', spec: brokerConfigSpec, argv: process.argv, env: process.env, activeSpans: false, start: startBroker });
