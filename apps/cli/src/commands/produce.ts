/**
 * `braid produce <topic>`: publishes each stdin line as one record's value
 * through the SDK `Producer` (batched, idempotent), holding stdin back while
 * the producer's buffer is full, and prints how many records were
 * acknowledged (or, with `--verbose`, each record's partition and offset).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { InvalidArgumentError } from '@braid/core';
import { Producer, producerDefaults } from '@braid/client';
import type { ProducerRecord } from '@braid/client';
import type { CliContext } from '../context.js';
import { collectHeader, integerIn, splitKey } from '../options.js';
import { OrderedLines } from '../ordered-lines.js';

interface ProduceOptions {
  key?: string;
  keySep?: string;
  header?: Record<string, string>;
  partition?: number;
  verbose?: boolean;
  timeout: number;
  lingerMs: number;
}

/** Registers `braid produce` on `program`. */
export function registerProduceCommand(program: Command, context: CliContext): void {
  program
    .command('produce')
    .description('publish each line of stdin as one record; print how many records were acknowledged')
    .argument('<topic>', 'topic to publish to')
    .addOption(new Option('--key <key>', 'key of every record').conflicts('keySep'))
    .option('--key-sep <sep>', 'each line is <key><sep><value>: the part before the first separator is the key')
    .option('--header <name=value>', 'header on every record (repeatable)', collectHeader)
    .option('--partition <n>', 'send every record to this partition', integerIn(0))
    .option('-v, --verbose', 'print "partition=P offset=O" for each record, in input order')
    .addOption(new Option('--timeout <ms>', 'give up on a record after this long, retries included').argParser(integerIn(1)).default(15_000))
    .addOption(new Option('--linger-ms <ms>', 'wait this long to fill a batch (0: send at the end of the tick; batches still form while earlier ones are in flight)').argParser(integerIn(0)).default(producerDefaults.lingerMs))
    .action(async (topic: string, options: ProduceOptions) => {
      if (options.keySep === '') {
        context.fail('--key-sep must not be empty');
        return;
      }
      await produce(context, topic, options);
    });
}

async function produce(context: CliContext, topic: string, options: ProduceOptions): Promise<void> {
  const producer = new Producer({ brokers: context.broker(), deliveryTimeoutMs: options.timeout, lingerMs: options.lingerMs });
  const printer = options.verbose ? new OrderedLines((text) => { context.out(text); }) : undefined;
  let acknowledged = 0;
  let firstError: unknown;
  let lineNumber = 0;
  try {
    for await (const line of context.lines()) {
      // Stop reading at the first failure: the rest would most likely fail
      // the same way (unknown topic, unreachable broker).
      if (firstError !== undefined) break;
      lineNumber += 1;
      const record: ProducerRecord = { value: line, key: options.key, headers: options.header, partition: options.partition };
      if (options.keySep !== undefined) {
        const parts = splitKey(line, options.keySep);
        if (!parts) {
          firstError = new InvalidArgumentError(`line ${lineNumber} has no key separator ${JSON.stringify(options.keySep)}`);
          break;
        }
        record.key = parts.key;
        record.value = parts.value;
      }
      const slot = printer?.reserve() ?? 0;
      producer.send(topic, record).then(
        ({ partition, offset }) => {
          acknowledged += 1;
          printer?.fill(slot, `partition=${partition} offset=${offset}`);
        },
        (error: unknown) => {
          firstError ??= error;
          printer?.fill(slot, undefined);
        },
      );
      // Backpressure: read no further while the producer's buffer is full.
      await producer.ready();
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
  context.out(`${acknowledged} record${acknowledged === 1 ? '' : 's'} acknowledged\n`);
  if (firstError !== undefined) context.failWith(firstError);
}
