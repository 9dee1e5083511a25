/**
 * dlq-admin's HTTP server (Fastify): the web console's static files at `/`
 * and its JSON API under `/api` (`api-routes.ts`), on `--http-port`
 * (default 7480; 0 picks a free port).
 *
 * - Errors of every route go through `http-errors.ts` (status from the
 *   gRPC code, JSON body), including Fastify's own (415, 413, bad JSON).
 * - Only `application/json` bodies are parsed: an HTML form on another
 *   site cannot post here (its content types are refused with 415), and a
 *   cross-site JSON `fetch` needs a CORS preflight that this server never
 *   grants. With `BRAID_ADMIN_TOKEN` set, mutations also need the token.
 * - Every answer carries `X-Content-Type-Options: nosniff` and
 *   `Referrer-Policy: no-referrer`; the console's HTML a strict
 *   Content-Security-Policy (its own scripts and styles only, no inline
 *   code, no framing).
 * - `close()` ends the live event streams, lets running requests finish
 *   (a running redrive ends when the service stops it) and closes idle
 *   keep-alive connections.
 */
import type { AddressInfo } from 'node:net';
import { fastify } from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BraidError, InvalidArgumentError, ResourceExhaustedError, systemClock } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { registerApiRoutes, queuesResponse } from './api-routes.js';
import type { AlertApi, DlqApi } from './api-routes.js';
import type { ErrorResponse, InfoResponse } from './api-types.js';
import { ConsoleAssets } from './console-assets.js';
import { toHttpError } from './http-errors.js';
import type { HttpError } from './http-errors.js';
import { QueueFeed } from './queue-feed.js';

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  service: DlqApi;
  /** Alert rules, listed, created and deleted at `/api/alert-rules` (without them: 404, and the console hides the tab). */
  alerts?: AlertApi;
  /** Address to listen on (the gRPC server's `--host`). */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Directory of the console's built files (`index.html`, `console.js`, ...). */
  consoleDir: string;
  /** Whether `BRAID_ADMIN_TOKEN` is set (the console then asks for it). */
  adminTokenRequired: boolean;
  /** How often the live queue stream sends, ms (default 2000). */
  liveIntervalMs?: number;
  /** Largest JSON body, bytes (default 16 MiB: an edited value of a large record, base64). */
  bodyLimitBytes?: number;
  clock?: Clock;
  logger: Logger;
}

/** A listening HTTP server. */
export interface HttpServer {
  /** The bound port. */
  port: number;
  /** Where a browser on this host reaches the console, e.g. `http://localhost:7480/`. */
  url: string;
  /** Whether the console's files were found (else only the API is served). */
  consoleAvailable: boolean;
  /** Stops listening; see the file comment. */
  close(): Promise<void>;
}

/** Defaults of {@link HttpServerOptions}. */
export const httpServerDefaults = {
  port: 7480,
  liveIntervalMs: 2000,
  bodyLimitBytes: 16 * 1024 * 1024,
} as const;

const baseHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' } as const;

/** The console loads only its own files and talks only to this server. */
const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The URL a browser on this machine uses for `host:port`. */
export function browserUrl(host: string, port: number): string {
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(host);
  const name = wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}/`;
}

/**
 * Fastify's own client errors (bad JSON 400, wrong content type 415, body
 * too large 413) keep their status, with an `ErrorResponse` body.
 */
function fastifyClientError(error: FastifyError, request: FastifyRequest): HttpError | undefined {
  const status = error.statusCode;
  if (error instanceof BraidError || status === undefined || status < 400 || status >= 500) return undefined;
  const message =
    status === 415
      ? `send JSON: Content-Type must be application/json, got ${request.headers['content-type'] ?? 'none'}`
      : status === 413
        ? `the request body is larger than the limit: ${error.message}`
        : `bad request body: ${error.message}`;
  const braid = status === 413 ? new ResourceExhaustedError(message, { metadata: { field: 'body' } }) : new InvalidArgumentError(message, { metadata: { field: 'body' } });
  const http = toHttpError(braid);
  // A body too large is not worth retrying as it is.
  return { ...http, status, headers: {}, body: { error: { ...http.body.error, retriable: false } } };
}

/** Builds the Fastify app (not listening yet). */
export function buildHttpApp(options: HttpServerOptions, assets: ConsoleAssets, feed: QueueFeed): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const app = fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? httpServerDefaults.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
  });
  // JSON only (see the file comment).
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(baseHeaders);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    logger.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http request');
    done();
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const http = fastifyClientError(error, request) ?? toHttpError(error);
    if (http.status >= 500) logger.error({ err: error, method: request.method, url: request.url }, 'http request failed');
    return reply.code(http.status).headers(http.headers).send(http.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || path === '/api') {
      const body: ErrorResponse = {
        error: { code: 'NOT_FOUND', reason: 'NOT_FOUND', message: `no API route ${request.method} ${path}`, retriable: false, retryAfterMs: 0, metadata: {} },
      };
      return reply.code(404).send(body);
    }
    return reply.code(404).type('text/plain; charset=utf-8').send(`not found: ${path}\n`);
  });

  const info: InfoResponse = {
    adminTokenRequired: options.adminTokenRequired,
    liveIntervalMs: options.liveIntervalMs ?? httpServerDefaults.liveIntervalMs,
  };
  registerApiRoutes(app, { service: options.service, alerts: options.alerts, feed, info, streamHeaders: { ...baseHeaders }, now: () => clock.now(), logger });
  registerConsoleRoutes(app, assets);
  return app;
}

/** The console's files, with ETag revalidation and gzip. */
function registerConsoleRoutes(app: FastifyInstance, assets: ConsoleAssets): void {
  if (!assets.available) {
    app.get('/', (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The web console is not built: no index.html in ${assets.dir}.\n` +
            'Build it with `npx nx build dlq-admin` (and run dist/apps/dlq-admin/main.js), or pass --console-dir.\n' +
            'The JSON API under /api works regardless.\n',
        ),
    );
    return;
  }
  for (const path of ['/', ...assets.paths]) {
    const asset = assets.get(path);
    if (asset === undefined) continue;
    app.get(path, (request, reply) => {
      void reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding').type(asset.contentType);
      if (asset.contentType.startsWith('text/html')) void reply.header('content-security-policy', contentSecurityPolicy);
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      if (asset.gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
        return reply.header('content-encoding', 'gzip').send(asset.gzipped);
      }
      return reply.send(asset.body);
    });
  }
}

/** Starts the HTTP server and logs its URL. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const assets = ConsoleAssets.load(options.consoleDir);
  const feed = new QueueFeed({
    list: () => queuesResponse(options.service, () => clock.now()),
    intervalMs: options.liveIntervalMs ?? httpServerDefaults.liveIntervalMs,
    logger,
  });
  const app = buildHttpApp(options, assets, feed);
  app.addHook('preClose', (done) => {
    feed.close();
    done();
  });
  await app.listen({ host: options.host, port: options.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = browserUrl(options.host, port);
  if (assets.available) logger.info({ url, host: options.host, port }, `web console at ${url}`);
  else logger.warn({ url, consoleDir: assets.dir }, `web console not built (no index.html in ${assets.dir}); serving the JSON API only at ${url}api`);
  return {
    port,
    url,
    consoleAvailable: assets.available,
    close: () => app.close(),
  };
}
