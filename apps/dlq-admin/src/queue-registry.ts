/**
 * The dead-letter queues dlq-admin knows, by topic and subscription. A
 * queue exists once its subscription's dead-letter topic exists or a
 * record of it was read (a deleted subscription's dead letters stay
 * visible while its dead-letter topic lives). Several subscriptions may
 * share one configured dead-letter topic; each is its own queue.
 */
import { QueueIndex } from './queue-index.js';

function queueKey(topic: string, subscription: string): string {
  return `${topic}\u0000${subscription}`;
}

/** See the file comment. */
export class QueueRegistry {
  private readonly queues = new Map<string, QueueIndex>();

  /** The queue of `subscription` on `topic`, if known. */
  get(topic: string, subscription: string): QueueIndex | undefined {
    return this.queues.get(queueKey(topic, subscription));
  }

  /**
   * The queue of `subscription` on `topic`, created with `deadLetterTopic`
   * if unknown. A queue keeps the dead-letter topic it was created with:
   * its records are looked up there (a subscription switched to another
   * dead-letter topic keeps showing the first one; see the README).
   */
  ensure(topic: string, subscription: string, deadLetterTopic: string): QueueIndex {
    const key = queueKey(topic, subscription);
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new QueueIndex(topic, subscription, deadLetterTopic);
      this.queues.set(key, queue);
    }
    return queue;
  }

  /** Every queue, ordered by topic and subscription. */
  list(): QueueIndex[] {
    return [...this.queues.values()].sort((a, b) => (a.topic === b.topic ? compare(a.subscription, b.subscription) : compare(a.topic, b.topic)));
  }

  /** Queues whose records live in `deadLetterTopic`. */
  ofDeadLetterTopic(deadLetterTopic: string): QueueIndex[] {
    return [...this.queues.values()].filter((queue) => queue.deadLetterTopic === deadLetterTopic);
  }

  /** Forgets every queue living in `deadLetterTopic` (the topic was deleted). */
  dropDeadLetterTopic(deadLetterTopic: string): void {
    for (const [key, queue] of this.queues) if (queue.deadLetterTopic === deadLetterTopic) this.queues.delete(key);
  }
}

function compare(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
