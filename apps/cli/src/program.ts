/**
 * The `braid` command tree, built over replaceable streams so that tests
 * run commands in-process, and the one place that turns commander's usage
 * errors into exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { registerBrokerCommand } from './commands/broker.js';
import { registerClusterCommand } from './commands/cluster.js';
import { registerConsumeCommand } from './commands/consume.js';
import { registerDlqCommand } from './commands/dlq.js';
import { registerHealthCommand } from './commands/health.js';
import { registerProduceCommand } from './commands/produce.js';
import { registerSubscriptionCommand } from './commands/subscription.js';
import { registerTopicCommand } from './commands/topic.js';
import { createContext } from './context.js';
import type { CliIo } from './context.js';

/** Builds the program; commander's own exits become thrown `CommanderError`s. */
export function createProgram(io: CliIo, env: Readonly<Record<string, string | undefined>>): Command {
  const program = new Command('braid')
    .description('Braid command line: topics, subscriptions, produce, consume, brokers, cluster, dead letters, health')
    .option('--broker <host:port>', 'broker to talk to [env: BRAID_BROKER] (default: localhost:7401)')
    .option('--dlq-admin <host:port>', 'dlq-admin to talk to, for `braid dlq` [env: BRAID_DLQ_ADMIN] (default: localhost:7402)')
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => { io.stdout(text); }, writeErr: (text) => { io.stderr(text); } })
    .exitOverride();
  const context = createContext(
    io,
    env,
    () => program.opts<{ broker?: string }>().broker,
    () => program.opts<{ dlqAdmin?: string }>().dlqAdmin,
  );
  registerHealthCommand(program, context);
  registerTopicCommand(program, context);
  registerProduceCommand(program, context);
  registerConsumeCommand(program, context);
  registerSubscriptionCommand(program, context);
  registerBrokerCommand(program, context);
  registerClusterCommand(program, context);
  registerDlqCommand(program, context);
  return program;
}

/**
 * Runs `argv` (without the node and script paths). Usage errors exit 2,
 * help and version 0; commander has printed the message already.
 */
export async function runProgram(io: CliIo, env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): Promise<void> {
  try {
    await createProgram(io, env).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    io.setExitCode(error.exitCode === 0 ? 0 : 2);
  }
}
