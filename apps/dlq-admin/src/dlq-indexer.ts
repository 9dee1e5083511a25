/**
 * Keeps dlq-admin's copy of the dead-letter topics current. Every poll
 * (and on demand, `refresh`), it lists subscriptions and topics, takes
 * each subscription's dead-letter topic that exists (plus any read
 * before), reads every partition from where it stopped with
 * `Admin.readRecords` (no subscription, no cursor on the broker), decodes
 * the dead letters, and stores and indexes them.
 *
 * A dead letter whose `braid-redriven-from` header names a record that
 * dlq-admin redrove inherits that record's redrive count and edit history
 * (see `Departure` in `dlq-store.ts`): this is how `GetDeadLetter` of a
 * record that was edited, redriven and dead-lettered again shows the edit.
 *
 * A dead-letter topic that was deleted is forgotten; one created again
 * (new topic id) is read from the start. Records the topic's retention
 * dropped (below its log start) leave the queue.
 */
import { BraidError } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { decodeDeadLetter, defaultDeadLetterTopic } from '@braid/client';
import type { Admin } from '@braid/client';
import type { DeadLetter, StoredRecord } from '@braid/proto';
import { dlqAdminDefaults } from './defaults.js';
import type { DlqStore, IndexedRecord } from './dlq-store.js';
import type { QueueRegistry } from './queue-registry.js';
import { summarize } from './record-summary.js';

/** Header a redriven record carries: `<dead-letter topic>/<partition>/<offset>` of the dead letter it was. */
export const redrivenFromHeader = 'braid-redriven-from';

/** The record a `braid-redriven-from` value names, or undefined when it is malformed. */
export function parseRedrivenFrom(value: string): { topic: string; partition: number; offset: number } | undefined {
  const match = /^(.+)\/(\d+)\/(\d+)$/.exec(value);
  if (match === null) return undefined;
  const [, topic = '', partition = '', offset = ''] = match;
  return { topic, partition: Number(partition), offset: Number(offset) };
}

/** Options of {@link DlqIndexer}. */
export interface DlqIndexerOptions {
  admin: Admin;
  store: DlqStore;
  queues: QueueRegistry;
  clock: Clock;
  logger: Logger;
  /** Default `dlqAdminDefaults.pollIntervalMs`. */
  pollIntervalMs?: number;
  /** Default `dlqAdminDefaults.readBatchRecords`. */
  readBatchRecords?: number;
}

/** A subscription's dead-letter queue as discovery sees it. */
export interface KnownSubscription {
  topic: string;
  subscription: string;
  deadLetterTopic: string;
}

/** See the file comment. */
export class DlqIndexer {
  private readonly pollIntervalMs: number;
  private readonly readBatchRecords: number;
  private readonly logger: Logger;
  /** Dead-letter topics read so far, with their ids. */
  private topics = new Map<string, number>();
  /** Subscriptions seen by the last discovery. */
  private subscriptionsValue: KnownSubscription[] = [];
  /** Log start offsets seen per `topic/partition`. */
  private readonly logStarts = new Map<string, number>();
  private cycle: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: DlqIndexerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? dlqAdminDefaults.pollIntervalMs;
    this.readBatchRecords = options.readBatchRecords ?? dlqAdminDefaults.readBatchRecords;
    this.logger = options.logger.child({ component: 'indexer' });
  }

  /** Subscriptions (and their dead-letter topics) seen by the last discovery. */
  get subscriptions(): readonly KnownSubscription[] {
    return this.subscriptionsValue;
  }

  /** Builds the in-memory index from the store (call once, before serving). */
  async load(): Promise<void> {
    const started = performance.now();
    this.topics = await this.options.store.topics();
    let records = 0;
    for (const topic of this.topics.keys()) {
      for await (const { letter, valueSize } of this.options.store.records(topic)) {
        const origin = letter.origin;
        if (origin === undefined) continue;
        const queue = this.options.queues.ensure(origin.topic, origin.subscription, topic);
        if (queue.deadLetterTopic !== topic) continue;
        queue.add(summarize(letter, valueSize));
        records++;
      }
    }
    this.logger.info({ topics: this.topics.size, records, ms: Math.round(performance.now() - started) }, 'index loaded');
  }

  /** Polls every `pollIntervalMs` until `stop`. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.refresh()
        .catch((error: unknown) => { this.logger.warn({ err: error }, 'dead-letter poll failed; retrying at the next poll'); })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollIntervalMs);
        });
    };
    tick();
  }

  /**
   * Discovers dead-letter topics and reads them to their ends. Resolves
   * once a pass that started after this call finished (concurrent callers
   * share the same pass).
   */
  refresh(): Promise<void> {
    if (this.pending !== undefined) return this.pending;
    const next = this.cycle.then(
      () => {
        this.pending = undefined;
        return this.pass();
      },
      () => {
        this.pending = undefined;
        return this.pass();
      },
    );
    this.pending = next;
    this.cycle = next;
    return next;
  }

  /** Stops polling and waits for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.cycle.catch(() => undefined);
  }

  private async pass(): Promise<void> {
    const { admin } = this.options;
    const [subscriptions, topics] = await Promise.all([admin.listSubscriptions(), admin.listTopics()]);
    const existing = new Map(topics.map((topic) => [topic.name, topic]));
    this.subscriptionsValue = subscriptions.map((s) => ({
      topic: s.topic,
      subscription: s.name,
      deadLetterTopic: s.config?.deadLetterTopic || defaultDeadLetterTopic(s.topic, s.name),
    }));
    for (const known of this.subscriptionsValue) {
      if (existing.has(known.deadLetterTopic)) this.options.queues.ensure(known.topic, known.subscription, known.deadLetterTopic);
    }
    const wanted = new Set([...this.topics.keys(), ...this.subscriptionsValue.map((s) => s.deadLetterTopic)]);
    for (const name of wanted) {
      const topic = existing.get(name);
      if (topic === undefined) {
        if (this.topics.has(name)) await this.forget(name, 'deleted');
        continue;
      }
      const knownId = this.topics.get(name);
      if (knownId !== undefined && knownId !== topic.id) await this.forget(name, 'created again');
      if (!this.topics.has(name)) {
        await this.options.store.addTopic(name, topic.id);
        this.topics.set(name, topic.id);
      }
      const partitions = topic.config?.partitions ?? 1;
      const cursors = await this.options.store.cursors(name);
      // Partitions are independent logs (often on different leaders): read them side by side.
      await Promise.all(Array.from({ length: partitions }, (_, partition) => this.tail(name, partition, cursors.get(partition) ?? 0)));
    }
  }

  private async forget(topic: string, why: string): Promise<void> {
    this.logger.info({ topic, why }, 'forgetting dead-letter topic');
    await this.options.store.dropTopic(topic);
    this.options.queues.dropDeadLetterTopic(topic);
    this.topics.delete(topic);
    for (const key of this.logStarts.keys()) if (key.startsWith(`${topic}/`)) this.logStarts.delete(key);
  }

  /** Reads `topic`/`partition` from `fromOffset` to its high watermark. */
  private async tail(topic: string, partition: number, fromOffset: number): Promise<void> {
    let offset = fromOffset;
    for (;;) {
      if (this.stopped) return;
      const page = await this.options.admin.readRecords(topic, partition, { fromOffset: offset, maxRecords: this.readBatchRecords });
      await this.expire(topic, partition, page.logStartOffset);
      const indexed: IndexedRecord[] = [];
      for (const record of page.records) {
        const letter = await this.decode(record);
        if (letter !== undefined) indexed.push({ letter });
      }
      if (page.nextOffset > offset || indexed.length > 0) {
        await this.options.store.append(topic, partition, indexed, page.nextOffset);
        for (const { letter } of indexed) this.index(topic, letter);
      }
      if (page.records.length === 0 || page.nextOffset >= page.highWatermark) return;
      offset = page.nextOffset;
    }
  }

  private async decode(record: StoredRecord): Promise<DeadLetter | undefined> {
    let letter: DeadLetter;
    try {
      letter = decodeDeadLetter(record);
    } catch (error) {
      if (!(error instanceof BraidError)) throw error;
      this.logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, err: error }, 'skipping a record that is not a dead letter');
      return undefined;
    }
    const from = letter.headers[redrivenFromHeader];
    const source = from === undefined ? undefined : parseRedrivenFrom(from);
    if (source !== undefined) {
      const departure = await this.options.store.departure(source.topic, source.partition, source.offset);
      if (departure !== undefined) {
        letter.redriveCount = Math.max(letter.redriveCount, departure.redriveCount);
        letter.edits = [...departure.edits, ...letter.edits];
      }
    }
    return letter;
  }

  private index(topic: string, letter: DeadLetter): void {
    const origin = letter.origin;
    if (origin === undefined) return;
    const queue = this.options.queues.ensure(origin.topic, origin.subscription, topic);
    if (queue.deadLetterTopic !== topic) {
      this.logger.warn(
        { topic: origin.topic, subscription: origin.subscription, deadLetterTopic: topic, queueTopic: queue.deadLetterTopic },
        'dead letter of a queue kept in another dead-letter topic; not indexed',
      );
      return;
    }
    queue.add(summarize(letter));
  }

  /** Drops records below the partition's log start (retention removed them from the topic). */
  private async expire(topic: string, partition: number, logStartOffset: number): Promise<void> {
    const key = `${topic}/${partition}`;
    const seen = this.logStarts.get(key);
    this.logStarts.set(key, logStartOffset);
    if (seen === undefined ? logStartOffset === 0 : logStartOffset <= seen) return;
    for (const queue of this.options.queues.ofDeadLetterTopic(topic)) {
      const gone = [...queue.live()].filter((s) => s.partition === partition && s.offset < logStartOffset);
      if (gone.length > 0) queue.remove(gone);
    }
    await this.options.store.dropBelow(topic, partition, logStartOffset);
  }
}
