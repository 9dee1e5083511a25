/** Runs the `braid` CLI from source as a child process and collects its output. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { workspaceRoot } from './app-process.js';

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `braid <args>` with `stdin` as standard input. */
export async function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
    cwd: workspaceRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdin.end(options.stdin ?? '');
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
