/**
 * What the `braid dlq` commands share: a `DlqAdmin` for the context's
 * dlq-admin (`--dlq-admin`, `BRAID_DLQ_ADMIN`, default localhost:7402) that
 * sends `BRAID_ADMIN_TOKEN` when it is set; failures print `CODE: message`
 * (plus a hint for the two a user can fix right away) and exit 1; and the
 * record selection and filter options of `records`, `redrive` and `purge`.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { status as Status } from '@grpc/grpc-js';
import { DlqAdmin } from '@braid/client';
import type { DeadLetterFilter, DeadLetterSelection } from '@braid/client';
import { fromGrpcError } from '@braid/core';
import type { CliContext } from './context.js';
import { collectOffset, integerIn, parseTime } from './options.js';

/** Runs `work` with a `DlqAdmin` for the context's dlq-admin; failures print `CODE: message` and exit 1. */
export async function withDlqAdmin(context: CliContext, timeoutMs: number, work: (dlq: DlqAdmin) => Promise<void>): Promise<void> {
  const address = context.dlqAdmin();
  const dlq = new DlqAdmin({ address, token: context.adminToken(), timeoutMs });
  try {
    await work(dlq);
  } catch (error) {
    context.failWith(error);
    const code = fromGrpcError(error).code;
    if (code === Status.UNAVAILABLE) context.note(`hint: is dlq-admin running at ${address}? (--dlq-admin <host:port> or BRAID_DLQ_ADMIN)\n`);
    if (code === Status.UNAUTHENTICATED) context.note('hint: set BRAID_ADMIN_TOKEN to the token dlq-admin was started with\n');
  } finally {
    dlq.close();
  }
}

/** The filter options as parsed. */
export interface FilterOptions {
  reason?: string;
  errorClass?: string;
  key?: string;
  from?: number;
  to?: number;
  minAttempts?: number;
  contains?: string;
}

/** The selection options as parsed (`redrive`, `purge`). */
export interface SelectionOptions extends FilterOptions {
  offset?: { partition: number; offset: number }[];
  all?: boolean;
}

/** Adds the filter options (`--reason`, `--error-class`, `--key`, `--from`, `--to`, `--min-attempts`, `--contains`). */
export function addFilterOptions(command: Command): Command {
  return command
    .option('--reason <text>', "the last attempt's reason contains this text")
    .option('--error-class <name>', "the last attempt's error class is this")
    .option('--key <key>', 'the record key is this text (or base64:<bytes>)')
    .option('--from <time>', 'dead-lettered at or after this time (Unix ms or ISO 8601)', parseTime)
    .option('--to <time>', 'dead-lettered before this time (Unix ms or ISO 8601)', parseTime)
    .option('--min-attempts <n>', 'at least this many delivery attempts', integerIn(1, 2 ** 31 - 1))
    .option('--contains <text>', 'the value contains this text (UTF-8)');
}

/** Adds the selection options: `--offset P:N` (repeatable), `--all`, and the filters. */
export function addSelectionOptions(command: Command): Command {
  command.addOption(new Option('--offset <partition:offset>', 'a record by its place in the dead-letter topic, as `records` prints it (repeatable)').argParser(collectOffset));
  command.option('--all', 'every record in the queue');
  return addFilterOptions(command);
}

/** The filter the options describe, or undefined when none is set. */
export function filterOf(options: FilterOptions): DeadLetterFilter | undefined {
  const set = [options.reason, options.errorClass, options.key, options.from, options.to, options.minAttempts, options.contains].some((v) => v !== undefined);
  if (!set) return undefined;
  const key = options.key;
  return {
    reason: options.reason ?? '',
    errorClass: options.errorClass ?? '',
    key: key === undefined ? undefined : key.startsWith('base64:') ? Buffer.from(key.slice('base64:'.length), 'base64') : Buffer.from(key, 'utf8'),
    fromTimeMs: options.from ?? 0,
    toTimeMs: options.to ?? 0,
    minAttempts: options.minAttempts ?? 0,
    valueContains: options.contains ?? '',
  };
}

/**
 * The selection the options describe: listed records, every record, or a
 * filter; exactly one kind. Undefined when none is given; a string (the
 * usage error) when several are.
 */
export function selectionOf(options: SelectionOptions): DeadLetterSelection | undefined | string {
  const filter = filterOf(options);
  const kinds = [options.offset !== undefined, options.all === true, filter !== undefined].filter(Boolean).length;
  if (kinds > 1) return 'choose the records one way: --offset, --all, or filter options, not several';
  if (options.offset !== undefined) {
    return { selection: { $case: 'refs', value: { refs: options.offset.map(({ partition, offset }) => ({ dlqPartition: partition, dlqOffset: offset })) } } };
  }
  if (options.all === true) return { selection: { $case: 'all', value: true } };
  if (filter !== undefined) return { selection: { $case: 'filter', value: filter } };
  return undefined;
}
