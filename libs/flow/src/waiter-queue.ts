/**
 * A first-in, first-out line of callers waiting for room, each holding a
 * request (tokens, bytes). Owners look at the head only, so a later small
 * request can never overtake an earlier large one. A waiter whose signal
 * aborts leaves the line at once and its promise rejects with the signal's
 * reason; the owner is then told, because the new head may fit where the
 * departed one did not.
 */

interface Entry<T> {
  readonly request: T;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Whatever the aborter passed (a `DOMException` when it passed nothing). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason;
}

/** FIFO waiters with abort-aware removal (internal to `@braid/flow`). */
export class WaiterQueue<T> {
  private entries: Entry<T>[] = [];

  /** @param onAbandoned called after an aborted waiter has left the line. */
  constructor(private readonly onAbandoned: () => void) {}

  /** Number of callers waiting. */
  get length(): number {
    return this.entries.length;
  }

  /** The request at the head of the line, if any. */
  peek(): T | undefined {
    return this.entries[0]?.request;
  }

  /**
   * Joins the end of the line. Resolves when the owner calls `resolveHead()`
   * for this waiter; rejects with `signal.reason` if the signal aborts first
   * (at once when it is already aborted).
   */
  wait(request: T, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const entry: Entry<T> = {
        request,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.entries = this.entries.filter((e) => e !== entry);
          if (signal) reject(abortReason(signal));
          this.onAbandoned();
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.entries.push(entry);
    });
  }

  /** Lets the head waiter go (its request has been granted). */
  resolveHead(): void {
    this.shift()?.resolve();
  }

  /** Fails the head waiter with `reason`. */
  rejectHead(reason: unknown): void {
    this.shift()?.reject(reason);
  }

  /** Fails every waiter with `reason` and empties the line. */
  rejectAll(reason: unknown): void {
    for (let entry = this.shift(); entry !== undefined; entry = this.shift()) {
      entry.reject(reason);
    }
  }

  private shift(): Entry<T> | undefined {
    const entry = this.entries.shift();
    entry?.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }
}
