/**
 * The TypeScript SDK for Braid. Today: the health check; `Producer`,
 * `Consumer`, `Admin` and `DlqAdmin` follow with the publish and consume
 * paths.
 *
 * @packageDocumentation
 */
export { checkHealth } from './health.js';
export type { CheckHealthOptions, ServingStatus } from './health.js';
