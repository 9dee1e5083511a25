/**
 * `braid dlq list|show <topic> --subscription S`: a subscription's dead
 * letters, read from its dead-letter topic (an ordinary topic) with
 * `AdminService.ReadRecords`, so looking at them changes nothing: no
 * subscription, no cursor, no acknowledgement.
 */
import type { Command } from 'commander';
import { decodeDeadLetter } from '@braid/client';
import { NotFoundError } from '@braid/core';
import { timeoutOption, withAdmin } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import type { CliContext } from '../context.js';
import { formatDeadLetter, formatDeadLetterJson, formatDeadLetterList, formatDeadLetterSummaryJson } from '../dead-letter-format.js';
import type { ListedDeadLetter } from '../dead-letter-format.js';
import { belongsTo, deadLetterPartitions, deadLetterTopicOf, listed, partitionRecords } from '../dead-letter-queue.js';
import { integerIn } from '../options.js';

interface ListOptions extends TimeoutOption {
  subscription: string;
  json?: boolean;
  limit: number;
}

interface ShowOptions extends TimeoutOption {
  subscription: string;
  offset: number;
  partition: number;
  json?: boolean;
}

/** Dead letters `dlq list` prints unless `--limit` says otherwise. */
const defaultListLimit = 100;

/** Registers `braid dlq ...` on `program`. */
export function registerDlqCommand(program: Command, context: CliContext): void {
  const dlq = program.command('dlq').description("inspect a subscription's dead letters (read-only)");

  dlq
    .command('list')
    .description('print one line per dead letter: where it is, its origin, key, attempts, how the last attempt ended and when it was dead-lettered')
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letters to list')
    .option('--json', 'print one JSON object per dead letter')
    .option('-n, --limit <n>', 'print at most this many, oldest first', integerIn(1), defaultListLimit)
    .addOption(timeoutOption())
    .action(async (topic: string, options: ListOptions) => {
      await withAdmin(context, options.timeout, async (admin) => {
        const dlqTopic = await deadLetterTopicOf(admin, topic, options.subscription);
        const partitions = await deadLetterPartitions(admin, dlqTopic);
        const none = (why: string): void => {
          const line = `no dead letters for subscription ${options.subscription} on ${topic} (${why})\n`;
          // Keep --json output pure JSON lines.
          if (options.json) context.note(line);
          else context.out(line);
        };
        if (partitions === undefined) {
          none(`dead-letter topic ${dlqTopic} does not exist yet`);
          return;
        }
        const entries: ListedDeadLetter[] = [];
        let more = false;
        let others = 0;
        for (let partition = 0; partition < partitions && !more; partition++) {
          for await (const record of partitionRecords(admin, dlqTopic, partition)) {
            const entry = listed(record);
            if (!belongsTo(entry, topic, options.subscription)) {
              others++;
              continue;
            }
            if (entries.length === options.limit) {
              more = true;
              break;
            }
            entries.push(entry);
          }
        }
        if (entries.length === 0) {
          // A dead-letter topic that several subscriptions share may hold only the others' dead letters.
          none(others === 0 ? `dead-letter topic ${dlqTopic} is empty` : `the ${others} dead letters in ${dlqTopic} came from other subscriptions`);
          return;
        }
        if (options.json) for (const entry of entries) context.out(formatDeadLetterSummaryJson(dlqTopic, entry));
        else context.out(formatDeadLetterList(entries));
        if (more) context.note(`showing the first ${options.limit} dead letters of ${dlqTopic}; there are more (--limit)\n`);
      });
    });

  dlq
    .command('show')
    .description('print one dead letter whole: origin, key, headers, value (JSON, text or base64) and its attempts as a timeline')
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letter to show')
    .requiredOption('--offset <n>', 'offset of the dead letter in the dead-letter topic (as `dlq list` prints it)', integerIn(0))
    .option('-p, --partition <n>', 'partition of the dead-letter topic', integerIn(0, 2 ** 31 - 1), 0)
    .option('--json', 'print the dead letter as one JSON object')
    .addOption(timeoutOption())
    .action(async (topic: string, options: ShowOptions) => {
      await withAdmin(context, options.timeout, async (admin) => {
        const { subscription, partition, offset } = options;
        const dlqTopic = await deadLetterTopicOf(admin, topic, subscription);
        if ((await deadLetterPartitions(admin, dlqTopic)) === undefined) {
          throw new NotFoundError(`subscription ${subscription} on ${topic} has no dead letters: its dead-letter topic ${dlqTopic} does not exist`, {
            metadata: { topic: dlqTopic },
          });
        }
        const page = await admin.readRecords(dlqTopic, partition, { fromOffset: offset, maxRecords: 1 });
        const record = page.records[0];
        if (record?.offset !== offset) {
          const held = page.highWatermark > page.logStartOffset ? `it holds offsets ${page.logStartOffset}-${page.highWatermark - 1}` : 'it is empty';
          const why = offset < page.logStartOffset ? `offsets below ${page.logStartOffset} were deleted by retention; ${held}` : held;
          throw new NotFoundError(`no dead letter at offset ${offset} of ${dlqTopic} partition ${partition}: ${why}`, {
            metadata: { topic: dlqTopic, partition: String(partition), offset: String(offset) },
          });
        }
        const deadLetter = decodeDeadLetter(record);
        context.out(options.json ? formatDeadLetterJson(dlqTopic, deadLetter) : formatDeadLetter(dlqTopic, deadLetter));
      });
    });
}
