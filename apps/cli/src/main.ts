/** Entry point of the `braid` command: wiring only. */
import { Command } from 'commander';
import { registerHealthCommand } from './commands/health.js';
import { processContext } from './context.js';

const program = new Command('braid')
  .description('Braid command line: topics, produce, consume, dead letters, health')
  .option('--broker <host:port>', 'broker to talk to [env: BRAID_BROKER] (default: localhost:7401)')
  .showHelpAfterError()
  .exitOverride((error) => {
    // Usage errors exit 2, help and version exit 0; commander has printed
    // the message already.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

const context = processContext(process.env, () => program.opts<{ broker?: string }>().broker);
registerHealthCommand(program, context);

await program.parseAsync(process.argv);
