// Runs a writer script of this folder as a child process, SIGKILLs it
// `runMs` after it printed its first `<marker> ` line, and returns every
// line it printed before the kill: what the crash tests compare the
// reopened store against.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs `libs/storage/test/<script>` with `args`, kills it with SIGKILL `runMs` after its first `<marker> ` line; resolves with its stdout lines. */
export function runAndKill(script: string, args: readonly string[], marker: string, runMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', `libs/storage/test/${script}`, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!timer && stdout.includes(`\n${marker} `)) timer = setTimeout(() => child.kill('SIGKILL'), runMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    // 'close' (not 'exit') waits for stdout to drain: every line written before the kill is read.
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`${script} exited on its own (code ${code ?? 'null'}): ${stderr}`));
      else resolve(stdout.split('\n'));
    });
  });
}
