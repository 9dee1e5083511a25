/**
 * Live queue depths for the console: `GET /api/queues/events` is a
 * Server-Sent Events stream that sends the queue list (`event: queues`,
 * data `QueuesResponse`) at once and then every `intervalMs`. One timer
 * serves every open stream, and it runs only while a stream is open; the
 * list comes from the indexer's in-memory view (no refresh), so a tick
 * costs microseconds whatever the depth.
 *
 * A browser that falls behind (its socket buffer full: `write()` returned
 * false) skips ticks until 'drain' rather than having them queue up in
 * memory; the next tick carries the current state anyway. A failed list
 * is sent as `event: problem` and the stream stays open.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '@braid/core';
import type { QueuesResponse } from './api-types.js';
import { toHttpError } from './http-errors.js';

/** Options of {@link QueueFeed}. */
export interface QueueFeedOptions {
  /** The current queues. */
  list: () => Promise<QueuesResponse>;
  /** Time between two sends, ms. */
  intervalMs: number;
  logger: Logger;
}

interface Subscriber {
  response: ServerResponse;
  /** Waiting for 'drain': skip ticks. */
  blocked: boolean;
}

/** See the file comment. */
export class QueueFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: QueueFeedOptions) {}

  /** Open streams. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Turns `response` into an event stream (headers `extraHeaders` too) and sends the queues now and on every tick. */
  add(response: ServerResponse, extraHeaders: Record<string, string> = {}): void {
    response.writeHead(200, {
      ...extraHeaders,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    if (this.closed) {
      response.end();
      return;
    }
    const subscriber: Subscriber = { response, blocked: false };
    this.subscribers.add(subscriber);
    response.on('close', () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stopTimer();
    });
    // Tell EventSource how soon to reconnect after a dropped connection.
    this.write(subscriber, `retry: ${this.options.intervalMs}\n\n`);
    void this.send([subscriber]);
    this.timer ??= setInterval(() => { void this.send([...this.subscribers]); }, this.options.intervalMs);
  }

  /** Ends every stream and sends no more (the server is stopping). */
  close(): void {
    this.closed = true;
    this.stopTimer();
    for (const subscriber of this.subscribers) subscriber.response.end();
    this.subscribers.clear();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async send(to: Subscriber[]): Promise<void> {
    const ready = to.filter((s) => !s.blocked);
    if (ready.length === 0) return;
    let event: string;
    try {
      event = `event: queues\ndata: ${JSON.stringify(await this.options.list())}\n\n`;
    } catch (error) {
      const { body } = toHttpError(error);
      this.options.logger.warn({ err: error }, 'live queue list failed');
      event = `event: problem\ndata: ${JSON.stringify(body)}\n\n`;
    }
    for (const subscriber of ready) this.write(subscriber, event);
  }

  private write(subscriber: Subscriber, text: string): void {
    const { response } = subscriber;
    if (response.destroyed || response.writableEnded || !this.subscribers.has(subscriber)) return;
    if (!response.write(text)) {
      subscriber.blocked = true;
      response.once('drain', () => { subscriber.blocked = false; });
    }
  }
}
