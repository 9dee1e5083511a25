/** Runs `braid` commands in-process with captured output, for fast command tests. */
import type { CliIo } from '../src/context.js';
import { runProgram } from '../src/program.js';

/** What a command printed and how it exited. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `braid <args>` with `stdin` as input and `env` as the environment;
 * `interrupt` stands in for SIGINT (commands that ask for it see it abort).
 */
export async function runInProcess(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; interrupt?: AbortSignal } = {},
): Promise<RunResult> {
  const result: RunResult = { code: 0, stdout: '', stderr: '' };
  const input = options.stdin ?? '';
  const io: CliIo = {
    stdout: (text) => { result.stdout += text; },
    stderr: (text) => { result.stderr += text; },
    // Like readline: a final newline does not start another line.
    stdinLines: async function* lines() {
      if (input === '') return;
      const all = input.endsWith('\n') ? input.slice(0, -1) : input;
      for (const line of all.split(/\r?\n/)) {
        await Promise.resolve();
        yield line;
      }
    },
    setExitCode: (code) => { result.code = code; },
    interrupted: () => options.interrupt ?? new AbortController().signal,
  };
  await runProgram(io, options.env ?? {}, args);
  return result;
}
