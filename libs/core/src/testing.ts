/**
 * Fakes for other packages' tests: a clock driven by hand and a logger that
 * remembers what it was told. Exported as `@braid/core/testing`; never used
 * by production code.
 */
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

interface PendingSleep {
  due: number;
  seq: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** Lets queued promise continuations run (they may schedule new sleeps). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when the test says so. `sleep()` calls resolve in
 * due-time order as `advance()` passes their due times.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: PendingSleep[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        const reason: unknown = signal.reason;
        reject(reason);
        return;
      }
      const entry: PendingSleep = {
        due: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.pending = this.pending.filter((p) => p !== entry);
          const reason: unknown = signal?.reason;
          reject(reason);
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.pending.push(entry);
    });
  }

  /** Number of sleeps not yet resolved. */
  get pendingSleeps(): number {
    return this.pending.length;
  }

  /** Due times of the pending sleeps, earliest first, relative to now. */
  pendingDelays(): number[] {
    return this.pending.map((p) => p.due - this.current).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, resolving every sleep that falls due on the
   * way (in order, letting the code that awaited each one run before the
   * next fires).
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      next.signal?.removeEventListener('abort', next.onAbort);
      this.current = next.due;
      next.resolve();
      await settle();
    }
    this.current = target;
  }

  /** Advances to the earliest pending sleep and resolves it (and its ties). */
  async advanceToNext(): Promise<void> {
    const next = this.earliestDue(Number.POSITIVE_INFINITY);
    if (next) await this.advance(next.due - this.current);
  }

  private earliestDue(limit: number): PendingSleep | undefined {
    let best: PendingSleep | undefined;
    for (const p of this.pending) {
      if (p.due > limit) continue;
      if (!best || p.due < best.due || (p.due === best.due && p.seq < best.seq)) best = p;
    }
    return best;
  }
}

/** One line captured by `MemoryLogger`. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that keeps every line in `entries` (children share the array). */
export class MemoryLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  debug(fields: object, message?: string): void {
    this.push('debug', fields, message);
  }
  info(fields: object, message?: string): void {
    this.push('info', fields, message);
  }
  warn(fields: object, message?: string): void {
    this.push('warn', fields, message);
  }
  error(fields: object, message?: string): void {
    this.push('error', fields, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger(this.entries, { ...this.bindings, ...bindings });
  }

  private push(level: LogEntry['level'], fields: object, message: string | undefined): void {
    this.entries.push({ level, fields: { ...this.bindings, ...fields }, message });
  }
}
