/** Runs the `braid` CLI from source as a child process and collects its output. */
import { workspaceRoot } from './app-process.js';
import { runProcess } from './run-process.js';
import type { ProcessResult } from './run-process.js';

/** What a CLI run printed and how it exited. */
export type CliResult = ProcessResult;

/** Runs `braid <args>` with `stdin` as standard input. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  return runProcess(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
    cwd: workspaceRoot,
    env: { ...process.env, ...options.env },
    stdin: options.stdin,
  });
}
