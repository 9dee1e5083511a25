/** `braid cluster brokers`: the registered brokers, their leases and leadership, from `Admin.getMetadata`. */
import type { Command } from 'commander';
import { timeoutOption, withAdmin } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import { formatBrokerList, formatBrokerListJson } from '../cluster-format.js';
import type { CliContext } from '../context.js';

interface BrokersOptions extends TimeoutOption {
  json?: boolean;
}

/** Registers `braid cluster ...` on `program`. */
export function registerClusterCommand(program: Command, context: CliContext): void {
  const cluster = program.command('cluster').description('show the cluster as the coordinator sees it');

  cluster
    .command('brokers')
    .description('list the registered brokers: id, address, live or down, lease expiry, and how many partitions each leads')
    .option('--json', 'print one JSON object per broker')
    .addOption(timeoutOption())
    .action(async (options: BrokersOptions) => {
      await withAdmin(context, options.timeout, async (admin) => {
        // All topics, so every broker's leadership is counted.
        const metadata = await admin.getMetadata();
        // Leases are measured against the time the answer arrived.
        const nowMs = Date.now();
        context.out(options.json ? formatBrokerListJson(metadata, nowMs) : formatBrokerList(metadata, nowMs));
      });
    });
}
