/**
 * Alerting figures of this process: notices sent, given up and retried,
 * rule checks. dlq-admin has no metrics endpoint yet (OpenTelemetry and
 * Prometheus export come in a later issue), so the numbers live here and
 * `ListAlertStates` reports them, with the gauges (rules firing, notices
 * pending) computed when asked.
 */

/** Counters since the process started. */
export class AlertMetrics {
  /** Notices delivered (one per event and webhook). */
  notificationsSent = 0;
  /** Notices given up on. */
  notificationsFailed = 0;
  /** POSTs that failed and were retried. */
  notificationRetries = 0;
  /** Rule checks (one per rule and round). */
  evaluations = 0;
  /** When the rules were last checked (Unix ms); 0: not yet. */
  lastCheckMs = 0;
}
