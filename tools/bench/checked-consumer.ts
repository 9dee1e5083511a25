/**
 * A benchmark consumer: one SDK `Consumer` on a fresh subscription (from
 * the earliest record), running `run()` whose handler notes each delivery
 * in a {@link DeliveryChecker} and returns, which acknowledges the message.
 */
import { Consumer, RetryOrder, StartPosition, SubscriptionMode } from '@braid/client';
import type { Message } from '@braid/client';
import { DeliveryChecker } from './delivery-checks.js';
import type { PublishedRecords } from './delivery-checks.js';

/** How a benchmark subscription hands out records. */
export type BenchMode = 'partitioned' | 'key-shared';

/** `--retry-order` of the consume benchmarks. */
export type RetryOrderName = 'block-key' | 'skip';

/** Settings of a {@link CheckedConsumer}. */
export interface CheckedConsumerOptions {
  brokerAddress: string;
  topic: string;
  subscription: string;
  mode: BenchMode;
  /** Consumer `prefetchRecords`. */
  prefetch: number;
  /** `run()` concurrency (records of one key stay serial). */
  concurrency: number;
  /** Records the run publishes (acknowledged so far), to judge deliveries against. */
  published: PublishedRecords;
  /** Called with every message before it is noted (e.g. to read a timestamp header). */
  onMessage?: (message: Message, receivedAt: number) => void;
  /**
   * Fraction of records whose first attempt fails (the handler throws, the
   * SDK nacks, the broker retries after the subscription's backoff), picked
   * by a hash of partition and offset. Only successful attempts are noted.
   */
  failRatio?: number;
  /** `retry_order` of the subscription (default BLOCK_KEY). */
  retryOrder?: RetryOrderName;
}

/** Whether the first attempt of `(partition, offset)` fails, for a `failRatio` of `ratio`. */
export function failsFirstAttempt(partition: number, offset: number, ratio: number): boolean {
  if (ratio <= 0) return false;
  const hash = (Math.imul(partition + 1, 0x9e3779b1) ^ Math.imul(offset, 0x85ebca6b)) >>> 0;
  return (Math.imul(hash ^ (hash >>> 16), 0x7feb352d) >>> 0) / 2 ** 32 < ratio;
}

/** A consumer started for one run, with what it received. */
export interface CheckedConsumer {
  readonly checker: DeliveryChecker;
  /** Rejects if `run()` fails. */
  readonly running: Promise<void>;
  /** Closes the consumer (pending acks go out) and waits for `run()` to end. */
  close(): Promise<void>;
}

const modes: Record<BenchMode, SubscriptionMode> = {
  partitioned: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  'key-shared': SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
};

/** Creates the subscription, connects and starts handling; resolves once connected. */
export async function startCheckedConsumer(options: CheckedConsumerOptions): Promise<CheckedConsumer> {
  const consumer = new Consumer({
    brokers: options.brokerAddress,
    topic: options.topic,
    subscription: options.subscription,
    createIfMissing: true,
    settings: {
      mode: modes[options.mode],
      startPosition: StartPosition.START_POSITION_EARLIEST,
      maxUnackedPerMember: 20_000,
      // Failed first attempts come back after 20-1000 ms (exponential, full jitter).
      retryPolicy: { initialBackoffMs: 20, maxBackoffMs: 1000, retryOrder: options.retryOrder === 'skip' ? RetryOrder.RETRY_ORDER_SKIP : RetryOrder.RETRY_ORDER_BLOCK_KEY },
    },
    prefetchRecords: options.prefetch,
    concurrency: options.concurrency,
  });
  const checker = new DeliveryChecker(options.published);
  const { onMessage } = options;
  await consumer.connect();
  const failRatio = options.failRatio ?? 0;
  const running = consumer.run((message) => {
    if (message.attempt === 1 && failsFirstAttempt(message.partition, message.offset, failRatio)) {
      throw new Error('benchmark: failing this first attempt');
    }
    onMessage?.(message, performance.now());
    checker.deliver(message.partition, message.offset, message.key);
  });
  // Surfaced by close(); never left unhandled meanwhile.
  running.catch(() => undefined);
  return {
    checker,
    running,
    close: async () => {
      await consumer.close({ timeoutMs: 10_000 });
      await running;
    },
  };
}
