/**
 * `braid subscription create|list|describe|seek|delete`: subscription
 * administration through `Admin`.
 */
import type { Command } from 'commander';
import { SubscriptionMode } from '@braid/client';
import type { SeekTarget, SubscriptionSettings } from '@braid/client';
import { timeoutOption, withAdmin } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import type { CliContext } from '../context.js';
import { collectOffset, integerIn, parseMode, parseStart, parseTime } from '../options.js';
import type { StartSetting } from '../options.js';
import { formatPositions, formatSubscriptionDescription, formatSubscriptionList, modeName, startName } from '../subscription-format.js';

interface CreateOptions extends TimeoutOption {
  mode?: SubscriptionMode;
  from?: StartSetting;
  ackTimeoutMs?: number;
  maxUnacked?: number;
  maxAttempts?: number;
  deadLetterTopic?: string;
}

interface ListOptions extends TimeoutOption {
  topic?: string;
}

interface SeekOptions extends TimeoutOption {
  offset?: { partition: number; offset: number }[];
  timestamp?: number;
  earliest?: boolean;
  latest?: boolean;
}

/** The one target `seek` was given, or a usage message. */
function seekTarget(options: SeekOptions): SeekTarget | string {
  const targets: SeekTarget[] = [];
  if (options.offset) targets.push({ offsets: options.offset });
  if (options.timestamp !== undefined) targets.push({ timestamp: options.timestamp });
  if (options.earliest) targets.push({ earliest: true });
  if (options.latest) targets.push({ latest: true });
  const [target] = targets;
  if (targets.length !== 1 || !target) return 'seek needs exactly one of --offset P:O (repeatable), --timestamp, --earliest or --latest';
  return target;
}

/** Registers `braid subscription ...` on `program`. */
export function registerSubscriptionCommand(program: Command, context: CliContext): void {
  const subscription = program.command('subscription').description('create, list, describe, seek and delete subscriptions');

  subscription
    .command('create')
    .description('create a subscription on a topic')
    .argument('<topic>', 'topic to subscribe to')
    .argument('<name>', 'subscription name: 1-249 of A-Z a-z 0-9 . _ -')
    .option('--mode <mode>', 'PARTITIONED, KEY_SHARED or SHARED (default: PARTITIONED)', parseMode)
    .option('--from <start>', 'earliest, latest, or a time (Unix ms or ISO 8601) (default: latest)', parseStart)
    .option('--ack-timeout-ms <ms>', 'lease of a delivery before it counts as failed (default: 30000)', integerIn(1))
    .option('--max-unacked <n>', 'most unsettled records one member may hold (default: 1000)', integerIn(1, 2 ** 31 - 1))
    .option('--max-attempts <n>', 'attempts before a record is dead-lettered (default: 5)', integerIn(1, 2 ** 31 - 1))
    .option('--dead-letter-topic <topic>', 'dead-letter topic (default: <topic>.<name>.dlq)')
    .addOption(timeoutOption())
    .action(async (topic: string, name: string, options: CreateOptions) => {
      const settings: SubscriptionSettings = {};
      if (options.mode !== undefined) settings.mode = options.mode;
      if (options.from !== undefined) Object.assign(settings, options.from);
      if (options.ackTimeoutMs !== undefined) settings.ackTimeoutMs = options.ackTimeoutMs;
      if (options.maxUnacked !== undefined) settings.maxUnackedPerMember = options.maxUnacked;
      if (options.maxAttempts !== undefined) settings.retryPolicy = { maxAttempts: options.maxAttempts };
      if (options.deadLetterTopic !== undefined) settings.deadLetterTopic = options.deadLetterTopic;
      await withAdmin(context, options.timeout, async (admin) => {
        const created = await admin.createSubscription(topic, name, settings);
        const config = created.config;
        const mode = modeName(config?.mode ?? settings.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_UNSPECIFIED);
        const start = config ? startName(config) : 'default';
        context.out(`created subscription ${created.name} on ${created.topic} (mode ${mode}, from ${start})\n`);
      });
    });

  subscription
    .command('list')
    .description('list subscriptions with their settings')
    .option('--topic <topic>', 'only the subscriptions of this topic')
    .addOption(timeoutOption())
    .action(async (options: ListOptions) => {
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatSubscriptionList(await admin.listSubscriptions(options.topic)));
      });
    });

  subscription
    .command('describe')
    .description("print a subscription's settings, its progress per partition (committed offset, high watermark, lag) and its members")
    .argument('<topic>', 'topic of the subscription')
    .argument('<name>', 'subscription name')
    .addOption(timeoutOption())
    .action(async (topic: string, name: string, options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatSubscriptionDescription(await admin.describeSubscription(topic, name)));
      });
    });

  subscription
    .command('seek')
    .description('move the cursor: the records after it are delivered (again); print the new position of each partition moved')
    .argument('<topic>', 'topic of the subscription')
    .argument('<name>', 'subscription name')
    .option('--offset <partition:offset>', 'continue this partition from this offset (repeatable); other partitions stay', collectOffset)
    .option('--timestamp <time>', 'every partition: the first record published at or after this time (Unix ms or ISO 8601)', parseTime)
    .option('--earliest', 'every partition: the oldest retained record')
    .option('--latest', 'every partition: the end of the log (skip everything published so far)')
    .addOption(timeoutOption())
    .action(async (topic: string, name: string, options: SeekOptions) => {
      const target = seekTarget(options);
      if (typeof target === 'string') {
        context.fail(target);
        return;
      }
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatPositions(await admin.seek(topic, name, target)));
      });
    });

  subscription
    .command('delete')
    .description('delete a subscription and its delivery state')
    .argument('<topic>', 'topic of the subscription')
    .argument('<name>', 'subscription name')
    .addOption(timeoutOption())
    .action(async (topic: string, name: string, options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        await admin.deleteSubscription(topic, name);
        context.out(`deleted subscription ${name} on ${topic}\n`);
      });
    });
}
