/**
 * `braid dlq ...`: dead-letter queues through dlq-admin's gRPC API
 * (`DlqAdmin` from the SDK): list queues, list and show records, redrive
 * (optionally edited) and purge them, manage alert rules and read the audit
 * log. dlq-admin is found with `--dlq-admin` / `BRAID_DLQ_ADMIN` (default
 * localhost:7402); `BRAID_ADMIN_TOKEN`, when set, goes out as the bearer
 * token that mutating calls need; `BRAID_ACTOR` (else `USER`) names who
 * acts in the audit log.
 */
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import { AlertMetric, defaultDeadLetterTopic } from '@braid/client';
import type { DeadLetterRef, DlqAdmin, RedriveResponse } from '@braid/client';
import { InternalError, InvalidArgumentError } from '@braid/core';
import { timeoutOption } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import type { CliContext } from '../context.js';
import { addFilterOptions, addSelectionOptions, filterOf, selectionOf, withDlqAdmin } from '../dlq-admin-command.js';
import type { FilterOptions, SelectionOptions } from '../dlq-admin-command.js';
import {
  describeAlertRule,
  formatAlertCounters,
  formatAlertEventJson,
  formatAlertEvents,
  formatAlertList,
  formatAlertRuleJson,
  formatAuditJson,
  formatAuditList,
  formatQueueJson,
  formatQueueList,
  formatRefs,
} from '../dlq-admin-format.js';
import { formatDeadLetter, formatDeadLetterJson, formatDeadLetterList, formatDeadLetterSummaryJson } from '../dead-letter-format.js';
import { collect, collectHeader, integerIn, parseDuration, positiveNumber } from '../options.js';

interface ListOptions extends TimeoutOption {
  topic?: string;
  refresh?: boolean;
  json?: boolean;
  subscription?: string;
}

interface RecordsOptions extends TimeoutOption, FilterOptions {
  subscription: string;
  pageSize?: number;
  pageToken?: string;
  json?: boolean;
}

interface ShowOptions extends TimeoutOption {
  subscription: string;
  partition: number;
  offset: number;
  json?: boolean;
}

interface RedriveOptions extends TimeoutOption, SelectionOptions {
  subscription: string;
  dryRun?: boolean;
  rate?: number;
  force?: boolean;
  editValue?: string;
  editHeader?: Record<string, string>;
  removeHeader?: string[];
  json?: boolean;
}

interface PurgeOptions extends TimeoutOption, SelectionOptions {
  subscription: string;
  olderThan?: number;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

interface AlertScopeOptions extends TimeoutOption {
  topic?: string;
  subscription?: string;
  json?: boolean;
}

interface AlertCreateOptions extends TimeoutOption {
  subscription: string;
  depthAbove?: number;
  arrivalsAbove?: number;
  oldestAbove?: number;
  clearAt?: string;
  for?: number;
  webhook?: string[];
  description?: string;
  json?: boolean;
}

interface AuditOptions extends TimeoutOption {
  topic?: string;
  subscription?: string;
  action?: string;
  pageSize?: number;
  pageToken?: string;
  json?: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The dead-letter topic dlq-admin reports for the queue (the default name while it has none). */
async function deadLetterTopicOf(dlq: DlqAdmin, topic: string, subscription: string): Promise<string> {
  const queues = await dlq.listQueues({ topic });
  return queues.find((q) => q.subscription === subscription)?.deadLetterTopic ?? defaultDeadLetterTopic(topic, subscription);
}

/** Registers `braid dlq ...` on `program`. */
export function registerDlqCommand(program: Command, context: CliContext): void {
  const dlq = program
    .command('dlq')
    .description('dead-letter queues through dlq-admin: list, inspect, redrive, purge, alert rules, audit log [--dlq-admin, BRAID_DLQ_ADMIN, BRAID_ADMIN_TOKEN]');

  dlq
    .command('list')
    .description('print one line per dead-letter queue: topic, subscription, depth, age of the oldest record, arrivals in the last minute')
    .argument('[topic]', 'only the queues of this topic')
    .option('--refresh', 'have dlq-admin read every dead-letter topic up to its end first (otherwise: as of its last poll, a few seconds old)')
    .option('--json', 'print one JSON object per queue')
    // `dlq list <topic> -s S` listed records before dlq-admin; point users to `records`.
    .addOption(new Option('-s, --subscription <name>').hideHelp())
    .addOption(timeoutOption())
    .action(async (topic: string | undefined, options: ListOptions) => {
      if (options.subscription !== undefined) {
        context.fail(`\`braid dlq list\` lists queues; for the records of one, use \`braid dlq records ${topic ?? '<topic>'} --subscription ${options.subscription}\``);
        return;
      }
      await withDlqAdmin(context, options.timeout, async (client) => {
        const queues = await client.listQueues({ topic: topic ?? '', refresh: options.refresh === true });
        if (queues.length === 0) {
          const line = `no dead-letter queues${topic === undefined ? '' : ` for topic ${topic}`}\n`;
          if (options.json) context.note(line);
          else context.out(line);
          return;
        }
        context.out(options.json ? queues.map(formatQueueJson).join('') : formatQueueList(queues));
      });
    });

  addFilterOptions(
    dlq
      .command('records')
      .description("print a page of a queue's dead letters, oldest first, filtered by dlq-admin: where each is, origin, key, attempts, how the last attempt ended"),
  )
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letters to list')
    .option('--page-size <n>', 'records per page, 1-1000 (default 50)', integerIn(1, 1000))
    .option('--page-token <token>', 'the page after the one that printed this token')
    .option('--json', 'print one JSON object per dead letter')
    .addOption(timeoutOption())
    .action(async (topic: string, options: RecordsOptions) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const filter = filterOf(options);
        const page = await client.listRecords({
          topic,
          subscription: options.subscription,
          filter,
          pageSize: options.pageSize ?? 0,
          pageToken: options.pageToken ?? '',
        });
        if (page.records.length === 0) {
          const line = `no dead letters${filter === undefined ? '' : ' matching the filter'} for subscription ${options.subscription} on ${topic}\n`;
          if (options.json) context.note(line);
          else context.out(line);
          return;
        }
        const dlqTopic = await deadLetterTopicOf(client, topic, options.subscription);
        const entries = page.records.map((deadLetter) => ({ deadLetter }));
        context.out(options.json ? entries.map((entry) => formatDeadLetterSummaryJson(dlqTopic, entry)).join('') : formatDeadLetterList(entries));
        if (page.nextPageToken !== '') {
          context.note(`showing ${page.records.length} of ${page.totalMatching} matching dead letters; next page: --page-token ${page.nextPageToken}\n`);
        }
      });
    });

  dlq
    .command('show')
    .description('print one dead letter whole: origin, key, headers, value (JSON, text or base64), its attempts as a timeline, and edits')
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letter to show')
    .requiredOption('--offset <n>', 'offset of the dead letter in the dead-letter topic (as `records` prints it)', integerIn(0))
    .option('-p, --partition <n>', 'partition of the dead-letter topic', integerIn(0, 2 ** 31 - 1), 0)
    .option('--json', 'print the dead letter as one JSON object')
    .addOption(timeoutOption())
    .action(async (topic: string, options: ShowOptions) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const { subscription, partition, offset } = options;
        const record = await client.getRecord({ topic, subscription, dlqPartition: partition, dlqOffset: offset });
        const dlqTopic = await deadLetterTopicOf(client, topic, subscription);
        context.out(options.json ? formatDeadLetterJson(dlqTopic, record) : formatDeadLetter(dlqTopic, record));
      });
    });

  addSelectionOptions(
    dlq
      .command('redrive')
      .description('send dead letters back to the subscription that failed them (only to it), optionally edited; prints progress (stderr) and a summary'),
  )
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letters to redrive')
    .option('--dry-run', 'only report what would move')
    .option('--rate <records-per-second>', 'send at most this many records per second (default: unlimited)', positiveNumber)
    .option('--force', 'redrive records at the redrive limit too')
    .option('--edit-value <file>', "replace the value of every selected record with this file's bytes")
    .option('--edit-header <name=value>', 'set a header of the record (repeatable; needs exactly one --offset)', collectHeader)
    .option('--remove-header <name>', 'remove a header of the record (repeatable; needs exactly one --offset)', collect)
    .option('--json', 'print the summary as one JSON object')
    .addOption(timeoutOption())
    .action(async (topic: string, options: RedriveOptions) => {
      const selection = selectionOf(options);
      if (typeof selection === 'string' || selection === undefined) {
        context.fail(selection ?? 'choose the records to redrive: --offset <partition:offset> (repeatable), --all, or filter options (see --help)');
        return;
      }
      const editsHeaders = options.editHeader !== undefined || options.removeHeader !== undefined;
      if (editsHeaders && options.offset?.length !== 1) {
        context.fail("--edit-header and --remove-header change one record's own headers: select exactly one record with --offset");
        return;
      }
      let newValue: Buffer | undefined;
      if (options.editValue !== undefined) {
        try {
          newValue = readFileSync(options.editValue);
        } catch (error) {
          context.fail(`cannot read --edit-value ${options.editValue}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
      }
      const { subscription } = options;
      await withDlqAdmin(context, options.timeout, async (client) => {
        let newHeaders: Record<string, string> = {};
        const only = options.offset?.[0];
        if (editsHeaders && only !== undefined) {
          // The API replaces headers as a whole: start from the record's own.
          const record = await client.getRecord({ topic, subscription, dlqPartition: only.partition, dlqOffset: only.offset });
          newHeaders = { ...record.headers, ...options.editHeader };
          for (const name of options.removeHeader ?? []) Reflect.deleteProperty(newHeaders, name);
          // The API reads no headers as "keep the record's own", so "none at all" cannot be asked for.
          if (Object.keys(newHeaders).length === 0) throw new InvalidArgumentError('the edit would remove every header of the record, which a redrive cannot do; keep at least one');
        }
        const refs: DeadLetterRef[] = [];
        let last: RedriveResponse | undefined;
        const started = Date.now();
        const interrupted = context.interrupted();
        const progressOf = client.redriveProgress(
          {
            topic,
            subscription,
            selection,
            dryRun: options.dryRun === true,
            recordsPerSecond: options.rate ?? 0,
            force: options.force === true,
            newValue,
            newHeaders,
            actor: context.actor(),
          },
          interrupted,
        );
        try {
          for await (const progress of progressOf) {
            refs.push(...progress.refs);
            last = progress;
            if (!progress.done && !options.dryRun) context.note(`redrive: ${progress.redriven}/${progress.total} redriven, ${progress.skipped} skipped\n`);
          }
        } catch (error) {
          if (!interrupted.aborted) throw error;
          // Ctrl-C: the call was cancelled, so dlq-admin stopped the redrive; what was sent stays redriven.
          context.note(`interrupted: the redrive stopped after ${last?.redriven ?? 0} of ${last?.total ?? '?'} records (see \`braid dlq audit\`)\n`);
          context.setExitCode(130);
          return;
        }
        if (last === undefined) throw new InternalError('the redrive ended without a summary');
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        if (options.json) {
          const json = { dryRun: options.dryRun === true, total: last.total, redriven: last.redriven, skipped: last.skipped, refs: refs.map((r) => `${r.dlqPartition}:${r.dlqOffset}`) };
          context.out(`${JSON.stringify(json)}\n`);
          return;
        }
        const skipped = last.skipped > 0 ? `; ${last.skipped} skipped at the redrive limit (--force to include them)` : '';
        if (options.dryRun) {
          context.out(`dry run: would redrive ${last.redriven} of ${plural(last.total, 'selected record')} of subscription ${subscription} on ${topic}${skipped}; nothing moved\n`);
          if (refs.length > 0) context.out(`records: ${formatRefs(refs)}\n`);
          return;
        }
        context.out(`redrove ${last.redriven} of ${plural(last.total, 'selected record')} back to subscription ${subscription} on ${topic} in ${seconds}s${skipped}\n`);
      });
    });

  addSelectionOptions(
    dlq
      .command('purge')
      .description('delete dead letters from a queue for good: a selection, and/or all dead-lettered longer ago than --older-than'),
  )
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead letters to purge')
    .option('--older-than <duration>', 'only records dead-lettered longer ago than this, e.g. 7d or 12h', parseDuration)
    .option('--dry-run', 'only report what would be deleted')
    .option('--yes', 'really delete (required unless --dry-run)')
    .option('--json', 'print the result as one JSON object')
    .addOption(timeoutOption())
    .action(async (topic: string, options: PurgeOptions) => {
      const selection = selectionOf(options);
      if (typeof selection === 'string') {
        context.fail(selection);
        return;
      }
      if (selection === undefined && options.olderThan === undefined) {
        context.fail('choose the records to purge: --offset <partition:offset> (repeatable), --all, filter options, and/or --older-than <duration>');
        return;
      }
      if (options.dryRun !== true && options.yes !== true) {
        context.fail('purge deletes dead letters for good: add --yes (or see what would go with --dry-run)');
        return;
      }
      const { subscription } = options;
      await withDlqAdmin(context, options.timeout, async (client) => {
        const result = await client.purge({
          topic,
          subscription,
          selection,
          olderThanMs: options.olderThan === undefined ? 0 : Date.now() - options.olderThan,
          dryRun: options.dryRun === true,
          actor: context.actor(),
        });
        if (options.json) {
          context.out(`${JSON.stringify({ dryRun: options.dryRun === true, purged: result.purged, refs: result.refs.map((r) => `${r.dlqPartition}:${r.dlqOffset}`) })}\n`);
          return;
        }
        if (options.dryRun) {
          context.out(`dry run: would purge ${plural(result.purged, 'dead letter')} of subscription ${subscription} on ${topic}; nothing deleted\n`);
          if (result.refs.length > 0) context.out(`records: ${formatRefs(result.refs)}\n`);
          return;
        }
        context.out(`purged ${plural(result.purged, 'dead letter')} of subscription ${subscription} on ${topic}\n`);
      });
    });

  registerAlertCommands(dlq, context);

  dlq
    .command('audit')
    .description("print dlq-admin's audit log, newest first: who did what (redrive, purge, alert rule changes) to which records, when, and how it ended")
    .option('--topic <name>', 'only entries about this topic')
    .option('-s, --subscription <name>', 'only entries about this subscription')
    .option('--action <name>', 'only entries of this action (redrive, purge, create-alert-rule, delete-alert-rule)')
    .option('--page-size <n>', 'entries per page, 1-1000 (default 50)', integerIn(1, 1000))
    .option('--page-token <token>', 'the page after the one that printed this token')
    .option('--json', 'print one JSON object per entry')
    .addOption(timeoutOption())
    .action(async (options: AuditOptions) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const page = await client.listAudit({
          topic: options.topic ?? '',
          subscription: options.subscription ?? '',
          action: options.action ?? '',
          pageSize: options.pageSize ?? 0,
          pageToken: options.pageToken ?? '',
        });
        if (page.entries.length === 0) {
          if (options.json) context.note('no audit entries\n');
          else context.out('no audit entries\n');
          return;
        }
        context.out(options.json ? page.entries.map(formatAuditJson).join('') : formatAuditList(page.entries));
        if (page.nextPageToken !== '') context.note(`older entries: --page-token ${page.nextPageToken}\n`);
      });
    });
}

/** `braid dlq alerts list|events|create|delete`. */
function registerAlertCommands(dlq: Command, context: CliContext): void {
  const alerts = dlq
    .command('alerts')
    .description('alert rules on dead-letter queues: when depth, arrivals per minute or the oldest age goes above a threshold, dlq-admin POSTs to webhooks');

  alerts
    .command('list')
    .description('print the alert rules with where each stands (ok, pending, firing), its last value and how often it fired')
    .option('--topic <name>', 'only rules of this topic')
    .option('-s, --subscription <name>', 'only rules of this subscription')
    .option('--json', 'print one JSON object per rule')
    .addOption(timeoutOption())
    .action(async (options: AlertScopeOptions) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const { states } = await client.listAlertStates({ topic: options.topic ?? '', subscription: options.subscription ?? '', eventLimit: 1 });
        if (states.length === 0) {
          if (options.json) context.note('no alert rules\n');
          else context.out('no alert rules\n');
          return;
        }
        context.out(
          options.json
            ? states.map((state) => (state.rule === undefined ? '' : formatAlertRuleJson(state.rule, state))).join('')
            : formatAlertList(states),
        );
      });
    });

  alerts
    .command('events')
    .description('print the latest alert events (fired, resolved) with their webhook deliveries, newest first, and the alerting counters')
    .option('--topic <name>', 'only events of this topic')
    .option('-s, --subscription <name>', 'only events of this subscription')
    .option('-n, --limit <n>', 'at most this many events, 1-1000', integerIn(1, 1000), 50)
    .option('--json', 'print one JSON object per event')
    .addOption(timeoutOption())
    .action(async (options: AlertScopeOptions & { limit: number }) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const { events, counters } = await client.listAlertStates({ topic: options.topic ?? '', subscription: options.subscription ?? '', eventLimit: options.limit });
        if (options.json) {
          context.out(events.map(formatAlertEventJson).join(''));
          return;
        }
        context.out(events.length === 0 ? 'no alert events\n' : formatAlertEvents(events));
        if (counters !== undefined) context.out(formatAlertCounters(counters));
      });
    });

  alerts
    .command('create')
    .description('add an alert rule: it fires once when the metric goes above the threshold and resolves once when it is back at --clear-at or below')
    .argument('<topic>', 'topic of the subscription')
    .requiredOption('-s, --subscription <name>', 'the subscription whose dead-letter queue to watch')
    .option('--depth-above <n>', 'fire when the queue holds more than n records', integerIn(0))
    .option('--arrivals-above <n>', 'fire when more than n records arrived in the last minute', integerIn(0))
    .option('--oldest-above <duration>', 'fire when the oldest record is older than this, e.g. 30m', parseDuration)
    .option('--clear-at <value>', 'resolve when the metric is at or below this (a number, or a duration with --oldest-above; default: the threshold)')
    .option('--for <duration>', 'fire only after the metric stayed above the threshold this long, e.g. 2m (default: at once)', parseDuration)
    .option('--webhook <url>', 'also POST this rule\'s notices to this URL, besides dlq-admin\'s --alert-webhook (repeatable)', collect)
    .option('--description <text>', 'free text sent along with the notices')
    .option('--json', 'print the new rule as one JSON object')
    .addOption(timeoutOption())
    .action(async (topic: string, options: AlertCreateOptions) => {
      const chosen = [
        options.depthAbove === undefined ? undefined : { metric: AlertMetric.ALERT_METRIC_DEPTH, threshold: options.depthAbove },
        options.arrivalsAbove === undefined ? undefined : { metric: AlertMetric.ALERT_METRIC_ARRIVALS_PER_MINUTE, threshold: options.arrivalsAbove },
        options.oldestAbove === undefined ? undefined : { metric: AlertMetric.ALERT_METRIC_OLDEST_AGE_MS, threshold: options.oldestAbove },
      ].filter((c) => c !== undefined);
      const [condition] = chosen;
      if (condition === undefined || chosen.length > 1) {
        context.fail('choose exactly one condition: --depth-above <n>, --arrivals-above <n> or --oldest-above <duration>');
        return;
      }
      let clearThreshold: number | undefined;
      if (options.clearAt !== undefined) {
        try {
          clearThreshold = condition.metric === AlertMetric.ALERT_METRIC_OLDEST_AGE_MS ? parseDuration(options.clearAt) : integerIn(0)(options.clearAt);
        } catch (error) {
          context.fail(`option '--clear-at <value>' argument '${options.clearAt}' is invalid. ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
      }
      await withDlqAdmin(context, options.timeout, async (client) => {
        const rule = await client.createAlertRule({
          topic,
          subscription: options.subscription,
          ...condition,
          clearThreshold,
          forMs: options.for ?? 0,
          webhooks: options.webhook ?? [],
          description: options.description ?? '',
          actor: context.actor(),
        });
        const webhooks = rule.webhooks.length === 0 ? '' : ` (${plural(rule.webhooks.length, 'own webhook')})`;
        context.out(options.json ? formatAlertRuleJson(rule) : `created alert rule ${rule.id}: ${describeAlertRule(rule)} on ${rule.topic}/${rule.subscription}${webhooks}\n`);
      });
    });

  alerts
    .command('delete')
    .description('delete an alert rule (a firing rule sends a last "resolved" notice)')
    .argument('<id>', 'the rule id, as `alerts list` prints it')
    .addOption(timeoutOption())
    .action(async (id: string, options: TimeoutOption) => {
      await withDlqAdmin(context, options.timeout, async (client) => {
        const rule = await client.deleteAlertRule({ id, actor: context.actor() });
        context.out(`deleted alert rule ${rule.id}: ${describeAlertRule(rule)} on ${rule.topic}/${rule.subscription}\n`);
      });
    });
}
