/** Defaults of `@braid/server`, in one place. */
export const serverDefaults = {
  /** Largest message a server accepts (batches of records), in bytes. */
  maxReceiveMessageBytes: 64 * 1024 * 1024,
  /** Largest message a server sends, in bytes. */
  maxSendMessageBytes: 64 * 1024 * 1024,
  /** Server keepalive ping interval: finds consumers that vanished without a FIN. */
  keepaliveTimeMs: 10_000,
  /** How long a keepalive ping may go unanswered. */
  keepaliveTimeoutMs: 5_000,
  /** HTTP/2 connection receive window: lets producers pipeline batches (Node's default is 64 KiB). */
  http2ConnectionWindowBytes: 4 * 1024 * 1024,
  /** HTTP/2 per-stream initial receive window. */
  http2StreamWindowBytes: 1024 * 1024,
  /** How long graceful shutdown waits for in-flight calls before cancelling them. */
  shutdownGraceMs: 10_000,
} as const;
