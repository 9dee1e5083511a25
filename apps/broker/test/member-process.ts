// Runs `fixtures/member.ts` (an SDK consumer) as a child process and
// collects the records it prints, so a test can kill -9 a member.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { workspaceRoot } from '@braid/testkit';
import type { AppExit } from '@braid/testkit';
import type { MemberLine } from './fixtures/member.js';

export type { MemberLine } from './fixtures/member.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A member process and what it printed. */
export class MemberProcess {
  /** Records processed, in the order the member printed them. */
  readonly lines: MemberLine[] = [];
  /** Resolves once the member's streams are open. */
  readonly ready: Promise<void>;
  readonly exited: Promise<AppExit>;
  /** Resolves once stdout is fully read (after the exit). */
  private readonly drained: Promise<void>;
  private stderr = '';
  private readonly child: ChildProcess;

  constructor(readonly memberId: string, args: { broker: string; topic: string; subscription: string; delayMs?: number }) {
    this.child = spawn(
      process.execPath,
      [
        '--conditions=@braid/source',
        '--import',
        'tsx',
        'apps/broker/test/fixtures/member.ts',
        args.broker,
        args.topic,
        args.subscription,
        memberId,
        String(args.delayMs ?? 0),
      ],
      { cwd: workspaceRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(this.child);
    this.child.stderr?.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      running.delete(this.child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      void this.exited.then((exit) => { reject(new Error(`member ${memberId} exited (${JSON.stringify(exit)}) before it was ready:\n${this.stderr}`)); });
    });
    const stdout = this.child.stdout;
    if (!stdout) throw new Error('member has no stdout');
    const lines = createInterface({ input: stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (text) => {
      const parsed = JSON.parse(text) as MemberLine | { ready: true } | { closed: true };
      if ('ready' in parsed) markReady();
      else if ('key' in parsed) this.lines.push(parsed);
    });
    this.drained = once(lines, 'close').then(() => undefined);
  }

  /** Everything the member wrote to stderr. */
  get errors(): string {
    return this.stderr;
  }

  /** kill -9; resolves once its output is read to the end. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    await this.drained;
  }

  /** Graceful stop (SIGTERM: close the consumer); resolves with the exit once output is read. */
  async stop(): Promise<AppExit> {
    this.child.kill('SIGTERM');
    const exit = await this.exited;
    await this.drained;
    return exit;
  }
}
