/** `braid topic create|list|describe|delete`: topic administration through `Admin`. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { Durability } from '@braid/client';
import type { TopicSettings } from '@braid/client';
import { timeoutOption, withAdmin } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import type { CliContext } from '../context.js';
import { durabilityNames, integerIn } from '../options.js';
import { durabilityName, formatTopicDescription, formatTopicList } from '../topic-format.js';

interface CreateOptions extends TimeoutOption {
  partitions: number;
  retentionMs?: number;
  retentionBytes?: number;
  durability?: keyof typeof durabilityNames;
  maxRecordBytes?: number;
}

/** Registers `braid topic ...` on `program`. */
export function registerTopicCommand(program: Command, context: CliContext): void {
  const topic = program.command('topic').description('create, list, describe and delete topics');

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name: 1-249 of A-Z a-z 0-9 . _ -')
    .requiredOption('--partitions <n>', 'number of partitions (1-4096)', integerIn(1, 4096))
    .option('--retention-ms <ms>', 'delete records older than this (default: keep forever)', integerIn(0))
    .option('--retention-bytes <bytes>', 'per partition, delete the oldest records beyond this size (default: no limit)', integerIn(0))
    .addOption(new Option('--durability <mode>', 'acknowledge after fsync, or after the write reached the OS (default: fsync)').choices(Object.keys(durabilityNames)))
    .option('--max-record-bytes <bytes>', 'largest accepted record, key + value + headers (default: 1048576)', integerIn(1, 2 ** 31 - 1))
    .addOption(timeoutOption())
    .action(async (name: string, options: CreateOptions) => {
      const settings: TopicSettings = { partitions: options.partitions };
      if (options.retentionMs !== undefined) settings.retentionMs = options.retentionMs;
      if (options.retentionBytes !== undefined) settings.retentionBytes = options.retentionBytes;
      if (options.durability !== undefined) settings.durability = durabilityNames[options.durability];
      if (options.maxRecordBytes !== undefined) settings.maxRecordBytes = options.maxRecordBytes;
      await withAdmin(context, options.timeout, async (admin) => {
        const created = await admin.createTopic(name, settings);
        const partitions = created.config?.partitions ?? options.partitions;
        const durability = durabilityName(created.config?.durability ?? settings.durability ?? Durability.DURABILITY_UNSPECIFIED);
        context.out(`created topic ${created.name} (${partitions} partition${partitions === 1 ? '' : 's'}, durability ${durability})\n`);
      });
    });

  topic
    .command('list')
    .description('list all topics with their settings')
    .addOption(timeoutOption())
    .action(async (options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatTopicList(await admin.listTopics()));
      });
    });

  topic
    .command('describe')
    .description("print a topic's settings and partitions (leader, epoch, status, high watermark)")
    .argument('<name>', 'topic name')
    .addOption(timeoutOption())
    .action(async (name: string, options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatTopicDescription(await admin.describeTopic(name)));
      });
    });

  topic
    .command('delete')
    .description('delete a topic and its data')
    .argument('<name>', 'topic name')
    .addOption(timeoutOption())
    .action(async (name: string, options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        await admin.deleteTopic(name);
        context.out(`deleted topic ${name}\n`);
      });
    });
}
