/**
 * The apps' output in the cluster's terminal: every line of a process,
 * prefixed with its name (`[broker-2] {...}`), as `npm start` prints it.
 */
import type { AppProcess } from '@braid/testkit';

/** Where prefixed lines go. */
export interface LineSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** `text` split into complete lines and the unterminated rest. */
function splitLines(text: string): { lines: string[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  return { lines, rest };
}

/**
 * Prints what `app` wrote so far (it ran before anyone listened), then
 * every later line of its stdout and stderr, each prefixed with `[name]`.
 */
export function forwardAppLogs(app: AppProcess, name: string, sink: LineSink): void {
  const prefix = `[${name}] `;
  const earlier = splitLines(app.logs);
  for (const line of [...earlier.lines, ...(earlier.rest === '' ? [] : [earlier.rest])]) sink.stdout(`${prefix}${line}\n`);
  const follow = (stream: NodeJS.ReadableStream | null, write: (text: string) => void): void => {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      const { lines, rest } = splitLines(pending + chunk.toString());
      pending = rest;
      for (const line of lines) write(`${prefix}${line}\n`);
    });
    stream?.on('end', () => {
      if (pending !== '') write(`${prefix}${pending}\n`);
    });
  };
  follow(app.child.stdout, (text) => { sink.stdout(text); });
  follow(app.child.stderr, (text) => { sink.stderr(text); });
}
