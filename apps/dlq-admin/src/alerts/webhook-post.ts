/**
 * One POST of a notice to one webhook, and what its failure means for
 * retrying: a receiver that cannot be reached, times out, answers 5xx, 408
 * or 429 may take it later (retriable); any other non-2xx answer says the
 * request itself is wrong (a bad URL path, a rejected body), so sending the
 * same bytes again cannot help.
 */

/** Sends `body` to `url`; resolves on a 2xx answer, rejects with a `WebhookError` otherwise. */
export type WebhookPost = (url: string, body: string, headers: Readonly<Record<string, string>>, signal: AbortSignal) => Promise<void>;

/** A POST that failed; `retriable` says whether sending it again may succeed. */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';

  /**
   * @param status - the HTTP status, or 0 when no answer came.
   */
  constructor(
    message: string,
    readonly status: number,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether an HTTP status is worth retrying (see the file comment). */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The code behind a failed `fetch` (`ECONNREFUSED`, ...), which it hides in `cause`. */
function failureText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
    return `${error.message}: ${code}`;
  }
  return error.message;
}

/** A `WebhookPost` over Node's `fetch`, each POST bounded by `timeoutMs`. */
export function fetchPost(timeoutMs: number): WebhookPost {
  return async (url, body, headers, signal) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', body, headers: { ...headers }, signal: AbortSignal.any([signal, deadline]), redirect: 'manual' });
    } catch (error) {
      signal.throwIfAborted();
      const why = deadline.aborted ? `no answer within ${timeoutMs} ms` : failureText(error);
      throw new WebhookError(`POST ${url} failed: ${why}`, 0, true, { cause: error });
    }
    // Read the answer to the end so that the connection can be reused; its content does not matter.
    await response.arrayBuffer().catch((error: unknown) => error);
    if (response.status >= 200 && response.status < 300) return;
    throw new WebhookError(`POST ${url} answered ${response.status} ${response.statusText}`.trimEnd(), response.status, isRetriableStatus(response.status));
  };
}
