/**
 * One SDK `Producer` per failing subscription, created on first use. Each
 * is built with `targetSubscription`, so the records it publishes reach
 * only that subscription of the topic: a redrive never re-fans a record
 * out to subscriptions that already processed it.
 */
import { Producer } from '@braid/client';
import type { Logger } from '@braid/core';

/** See the file comment. */
export class RedriveProducers {
  private readonly producers = new Map<string, Producer>();

  constructor(
    private readonly brokers: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** The producer whose records only `subscription` receives. */
  for(subscription: string): Producer {
    let producer = this.producers.get(subscription);
    if (producer === undefined) {
      producer = new Producer({ brokers: this.brokers, targetSubscription: subscription, logger: this.logger });
      this.producers.set(subscription, producer);
    }
    return producer;
  }

  /** Flushes and closes every producer. */
  async close(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(producers.map((producer) => producer.close({ timeoutMs: 10_000 })));
  }
}
