/** Defaults of dlq-admin's service layer, in one place (STYLE.md: options merged with `??`). */
export const dlqAdminDefaults = {
  /** Records per page of `ListDeadLetters` when `page_size` is 0. */
  pageSize: 50,
  /** Largest `page_size` of `ListDeadLetters` and `ListAuditEntries`. */
  maxPageSize: 1000,
  /** A record redriven this many times is refused unless `force` (the loop guard). */
  redriveLimit: 3,
  /** How often the indexer looks for new dead-letter topics and records, in ms. */
  pollIntervalMs: 2000,
  /** Records per `ReadRecords` call while tailing a dead-letter partition (the server's largest page). */
  readBatchRecords: 1000,
  /** How often a redrive reports progress, in ms. */
  progressIntervalMs: 500,
  /** Records a redrive publishes and has not seen acknowledged yet, at most. */
  redriveWindowRecords: 2000,
  /** Refs per progress message of a dry run (keeps each message far below gRPC's 4 MiB). */
  refsPerMessage: 10_000,
  /** Filter results kept per process for paging through them (each is an array of references). */
  cachedQueries: 16,
  /** Window of `arrivals_last_minute`, in ms. */
  arrivalWindowMs: 60_000,
} as const;
