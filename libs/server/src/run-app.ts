/**
 * The life of a server app process in one call: parse the configuration
 * (printing help or a precise error and exiting 0/2), create the pino
 * logger, start tracing when the `OTEL_*` environment asks for it
 * (`tracing-sdk.ts`) and the Prometheus metrics endpoint when
 * `--metrics-port` does (`metrics-sdk.ts`), start the app, and stop it
 * gracefully on SIGTERM/SIGINT.
 */
import type { z } from 'zod';
import type { Logger } from '@braid/core';
import { ConfigError, parseConfig } from './config.js';
import type { ConfigSpec } from './config.js';
import { stopOnSignals } from './lifecycle.js';
import { createLogger } from './logger.js';
import type { LogLevel } from './logger.js';
import { startMetrics } from './metrics-sdk.js';
import type { Metrics } from './metrics-sdk.js';
import { startTracing } from './tracing-sdk.js';
import type { Tracing } from './tracing-sdk.js';

/** A started app. */
export interface RunningApp {
  /** Graceful stop: stop accepting, drain in-flight work, flush storage. */
  stop(): Promise<void>;
  /**
   * Resolves with the reason when the app can no longer go on and must not
   * keep serving even briefly (a coordinator that lost its leadership):
   * `runApp` logs it and exits with code 1 at once, without a graceful
   * stop, so that a supervisor restarts it. Never resolving is fine.
   */
  failed?: Promise<Error>;
}

/** What `runApp` reads from every app's configuration (`serverAppSchema`). */
export interface RunAppConfig {
  logLevel: LogLevel;
  host: string;
  /** Prometheus endpoint port; undefined: none. */
  metricsPort?: number | undefined;
}

/** What `runApp` needs. */
export interface RunAppOptions<S extends z.ZodType<RunAppConfig>> {
  /** App name for logs. */
  name: string;
  /** Its configuration. */
  spec: ConfigSpec<S>;
  /** `process.argv`. */
  argv: readonly string[];
  /** `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Whether the app runs work inside active spans (`context.with`) and so
   * needs a context manager when tracing is on (default true; see
   * `TracingOptions.activeSpans`).
   */
  activeSpans?: boolean;
  /** Builds and starts the app. */
  start(config: z.infer<S>, logger: Logger): Promise<RunningApp>;
}

/** Runs an app until a signal stops it. */
export async function runApp<S extends z.ZodType<RunAppConfig>>(options: RunAppOptions<S>): Promise<void> {
  let config: z.infer<S>;
  try {
    config = parseConfig(options.spec, options.argv, options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.message) process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  const logger = createLogger(options.name, config.logLevel);
  let tracing: Tracing | undefined;
  try {
    tracing = startTracing(options.name, options.env, logger, { activeSpans: options.activeSpans ?? true });
  } catch (error) {
    process.stderr.write(`invalid OpenTelemetry configuration: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  let metricsEndpoint: Metrics | undefined;
  try {
    // Before the app starts: instruments created earlier would stay no-ops.
    const where = config.metricsPort === undefined ? undefined : { host: config.host, port: config.metricsPort };
    metricsEndpoint = await startMetrics(options.name, where, options.env, logger);
  } catch (error) {
    logger.error({ err: error, port: config.metricsPort }, 'metrics endpoint failed to start');
    process.exit(1);
  }
  try {
    const app = await options.start(config, logger);
    stopOnSignals(logger, async () => {
      await app.stop();
      // Spans of the last requests go out before the process ends.
      await tracing?.shutdown();
      await metricsEndpoint?.shutdown();
    });
    void app.failed?.then((reason) => {
      logger.error({ err: reason }, `${options.name} cannot go on; exiting`);
      process.exit(1);
    });
  } catch (error) {
    logger.error({ err: error }, `${options.name} failed to start`);
    process.exit(1);
  }
}
