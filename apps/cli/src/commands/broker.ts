/** `braid broker describe`: a broker's (or the coordinator's) own state through `Admin.describeBroker`. */
import type { Command } from 'commander';
import { timeoutOption, withAdmin } from '../admin-command.js';
import type { TimeoutOption } from '../admin-command.js';
import { formatBrokerDescription } from '../broker-format.js';
import type { CliContext } from '../context.js';

/** Registers `braid broker ...` on `program`. */
export function registerBrokerCommand(program: Command, context: CliContext): void {
  const broker = program.command('broker').description("describe a broker's own state");

  broker
    .command('describe')
    .description('print the id, address, memory and Subscribe stream buffers of the process at --broker (answered by it, not forwarded)')
    .addOption(timeoutOption())
    .action(async (options: TimeoutOption) => {
      await withAdmin(context, options.timeout, async (admin) => {
        context.out(formatBrokerDescription(await admin.describeBroker()));
      });
    });
}
