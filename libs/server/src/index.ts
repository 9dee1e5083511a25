/**
 * Building blocks of Braid's server apps: the one gRPC server factory
 * (interceptor chain, health, reflection, graceful shutdown), handler
 * adapters that turn thrown errors into precise statuses, configuration
 * from flags and `BRAID_*` variables, pino logging, signal handling,
 * the OpenTelemetry SDKs (tracing from `OTEL_*`, a Prometheus endpoint with
 * `--metrics-port`) and the process memory that `DescribeBroker` reports.
 *
 * @packageDocumentation
 */
export { createServer, BraidServer } from './create-server.js';
export type { CreateServerOptions, ServiceRegistration } from './create-server.js';
export { unary, serverStream, clientStream, bidi } from './handlers.js';
export type { UnaryFn, ServerStreamFn, ClientStreamFn, BidiFn } from './handlers.js';
export { unimplementedService } from './unimplemented.js';
export { callLoggingInterceptor } from './interceptors.js';
export type { CallStats } from './interceptors.js';
export { braidPackageDefinition, createReflectionService } from './reflection.js';
export { parseConfig, ConfigError } from './config.js';
export type { ConfigOption, ConfigSpec } from './config.js';
export { createLogger, logLevels } from './logger.js';
export type { LogLevel } from './logger.js';
export { stopOnSignals } from './lifecycle.js';
export { serverDefaults } from './defaults.js';
export { isWildcardHost, requireAdvertisedAddress, serverAppOptions, serverAppSchema } from './app-options.js';
export type { AppOptionDefaults } from './app-options.js';
export { runApp } from './run-app.js';
export type { RunningApp, RunAppConfig, RunAppOptions } from './run-app.js';
export { processMemory } from './process-memory.js';
export { MalformedMessage, tolerantDefinition, rejectMalformedInterceptor } from './malformed-message.js';
