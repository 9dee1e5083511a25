/** `braid health`: asks a Braid server for its gRPC health status. */
import type { Command } from 'commander';
import { checkHealth } from '@braid/client';
import type { CliContext } from '../context.js';

/** Registers `braid health` on `program`. */
export function registerHealthCommand(program: Command, context: CliContext): void {
  program
    .command('health')
    .description('print the serving status of a broker, coordinator or dlq-admin; exit 1 unless SERVING')
    .option('--target <host:port>', 'server to ask (default: --broker / BRAID_BROKER / localhost:7401)')
    .option('--service <name>', 'ask about one service, e.g. braid.v1.ProducerService', '')
    .option('--timeout <ms>', 'give up after this long', '3000')
    .action(async (options: { target?: string; service: string; timeout: string }) => {
      const target = options.target ?? context.broker();
      const timeoutMs = Number(options.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        context.fail(`--timeout must be a positive number of milliseconds (got ${JSON.stringify(options.timeout)})`);
        return;
      }
      try {
        const status = await checkHealth(target, { service: options.service, timeoutMs });
        context.out(`${status}\n`);
        if (status !== 'SERVING') context.setExitCode(1);
      } catch (error) {
        context.failWith(error, `${target} is not reachable`);
      }
    });
}
