// A real HTTP server standing in for an alert webhook in tests: records
// every POST (headers and JSON body) and answers 204, or the statuses a test
// queues up first. Can be started on a port chosen before (a receiver that
// "comes back" where dlq-admin expects it).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';

/** One POST the receiver got. */
export interface ReceivedNotice {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** See the file comment. */
export class WebhookReceiver {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** Every POST, in arrival order (including those answered with an error status). */
    readonly received: ReceivedNotice[],
    /** Statuses to answer before falling back to 204, first first. */
    readonly statuses: number[],
  ) {}

  /** Starts listening on 127.0.0.1:`port` (0: a free one). */
  static async start(port = 0): Promise<WebhookReceiver> {
    const received: ReceivedNotice[] = [];
    const statuses: number[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          // Not JSON: kept as text, which the test's assertions will show.
        }
        received.push({ path: request.url ?? '', headers: request.headers, body });
        response.statusCode = statuses.shift() ?? 204;
        response.end();
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address !== 'object') throw new Error('webhook receiver has no address');
    return new WebhookReceiver(server, address.port, received, statuses);
  }

  /** The URL to POST to (`path` appended). */
  url(path = '/alerts'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The bodies received, as JSON objects. */
  bodies<T = Record<string, unknown>>(): T[] {
    return this.received.map((notice) => notice.body as T);
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => { if (error) reject(error); else resolve(); });
    });
  }
}
