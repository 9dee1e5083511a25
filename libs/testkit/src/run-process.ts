/** Runs a child process to its end and collects its output (the CLI, Python, npm, a bundle). */
import { spawn } from 'node:child_process';

/** What a process printed and how it exited (`code` null when a signal ended it). */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Standard input (default: empty). */
  stdin?: string;
  /** Kills the process with SIGKILL after this long (default: never). */
  timeoutMs?: number;
}

/** Runs `command args` without blocking the event loop; rejects only if it cannot be started. */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin.end(options.stdin ?? '');
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => { child.kill('SIGKILL'); }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
