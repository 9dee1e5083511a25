/**
 * The web console's static files (index.html, console.js, console.css),
 * built by `apps/dlq-admin/bundle-assets.mjs` (part of `nx build dlq-admin`,
 * into `dist/apps/dlq-admin/console/`). They are read once at start into
 * memory with a strong ETag and a gzip copy: a handful of small files, so
 * the first load costs one round trip each and a reload none
 * (`Cache-Control: no-cache` + `If-None-Match` -> 304).
 *
 * A directory without `index.html` (dlq-admin run from source without
 * `--console-dir`) is not fatal: the API works and `/` explains how to
 * build the console.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file, ready to send. */
export interface ConsoleAsset {
  /** URL path, e.g. `/console.js`. */
  path: string;
  contentType: string;
  body: Buffer;
  /** gzip of `body`, when that is smaller. */
  gzipped: Buffer | undefined;
  /** Strong ETag (quoted). */
  etag: string;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files larger than this are not loaded (the console has none; anything else is not ours). */
const maxAssetBytes = 8 * 1024 * 1024;

/** See the file comment. */
export class ConsoleAssets {
  private constructor(
    /** Where the files were looked for. */
    readonly dir: string,
    private readonly files: ReadonlyMap<string, ConsoleAsset>,
  ) {}

  /** Reads every file of `dir` (not recursive) that has a known type. */
  static load(dir: string): ConsoleAssets {
    const files = new Map<string, ConsoleAsset>();
    if (existsSync(join(dir, 'index.html'))) {
      for (const name of readdirSync(dir)) {
        const file = join(dir, name);
        const contentType = contentTypes[extname(name)];
        if (contentType === undefined || !statSync(file).isFile() || statSync(file).size > maxAssetBytes) continue;
        const body = readFileSync(file);
        const compressible = contentType.startsWith('text/') || contentType.startsWith('application/json') || contentType === 'image/svg+xml';
        const gzipped = compressible ? gzipSync(body) : undefined;
        files.set(`/${name}`, {
          path: `/${name}`,
          contentType,
          body,
          gzipped: gzipped !== undefined && gzipped.length < body.length ? gzipped : undefined,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        });
      }
    }
    return new ConsoleAssets(dir, files);
  }

  /** Whether the console is built (there is an `index.html`). */
  get available(): boolean {
    return this.files.has('/index.html');
  }

  /** The file served at `path` (`/` is `/index.html`), if any. */
  get(path: string): ConsoleAsset | undefined {
    return this.files.get(path === '/' ? '/index.html' : path);
  }

  /** URL paths of every file. */
  get paths(): string[] {
    return [...this.files.keys()];
  }
}
