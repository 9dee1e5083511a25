/**
 * `braid consume <topic> --subscription S`: receives records as a member of
 * the subscription (created with `--mode` and `--from` if it does not
 * exist) through the SDK `Consumer`, prints one line per record and
 * acknowledges it once printed. Stops after `--max` records, or on
 * SIGINT/SIGTERM, and in both cases flushes the acknowledgements first.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { Consumer } from '@braid/client';
import type { SubscriptionMode, SubscriptionSettings } from '@braid/client';
import type { CliContext } from '../context.js';
import { integerIn, parseMode, parseStart } from '../options.js';
import type { StartSetting } from '../options.js';
import { formatRecordJson, formatRecordText } from '../record-format.js';

interface ConsumeOptions {
  subscription: string;
  mode?: SubscriptionMode;
  from?: StartSetting;
  max?: number;
  json?: boolean;
  memberId?: string;
  prefetch: number;
  timeout: number;
}

/** Registers `braid consume` on `program`. */
export function registerConsumeCommand(program: Command, context: CliContext): void {
  program
    .command('consume')
    .description('print the records of a subscription, one line each, and acknowledge them')
    .argument('<topic>', 'topic to consume')
    .requiredOption('-s, --subscription <name>', 'subscription to consume as a member of (created if missing)')
    .option('--mode <mode>', 'mode of a subscription this command creates: PARTITIONED, KEY_SHARED or SHARED (default: PARTITIONED)', parseMode)
    .option('--from <start>', 'start of a subscription this command creates: earliest, latest, or a time (Unix ms or ISO 8601) (default: latest)', parseStart)
    .option('-n, --max <n>', 'stop after this many records', integerIn(1))
    .option('--json', 'print one JSON object per record: partition, offset, key, value, headers, attempt, publishTime')
    .option('--member-id <id>', 'member id (default: a random one)')
    .addOption(new Option('--prefetch <n>', 'records received ahead of printing').argParser(integerIn(1)).default(1_000))
    .addOption(
      new Option('--timeout <ms>', 'give up when no broker can be reached for this long').argParser(integerIn(1)).default(15_000),
    )
    .action(async (topic: string, options: ConsumeOptions) => {
      await consume(context, topic, options);
    });
}

async function consume(context: CliContext, topic: string, options: ConsumeOptions): Promise<void> {
  const settings: SubscriptionSettings = {};
  if (options.mode !== undefined) settings.mode = options.mode;
  if (options.from !== undefined) Object.assign(settings, options.from);
  let consumer: Consumer;
  try {
    consumer = new Consumer({
      brokers: context.broker(),
      topic,
      subscription: options.subscription,
      memberId: options.memberId,
      createIfMissing: true,
      settings,
      // Never take more than --max: records received and not printed go back
      // to the broker when the command stops, each costing a delivery attempt.
      prefetchRecords: Math.min(options.prefetch, options.max ?? Number.POSITIVE_INFINITY),
      reconnect: { deadlineMs: options.timeout },
      metadataTimeoutMs: options.timeout,
    });
  } catch (error) {
    context.failWith(error);
    return;
  }
  const format = options.json ? formatRecordJson : formatRecordText;
  const interrupted = context.interrupted();
  const stop = (): void => { void consumer.close(); };
  interrupted.addEventListener('abort', stop, { once: true });
  let printed = 0;
  try {
    for await (const message of consumer) {
      context.out(format(message));
      message.ack();
      printed += 1;
      if (options.max !== undefined && printed >= options.max) break;
    }
  } catch (error) {
    context.failWith(error);
  } finally {
    interrupted.removeEventListener('abort', stop);
    await consumer.close();
  }
}
