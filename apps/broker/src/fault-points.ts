/**
 * Fault injection for crash tests: `BRAID_FAULT_POINT=<name>` makes the
 * broker kill itself with SIGKILL (no cleanup, like `kill -9`) when it
 * reaches the named point. Points:
 *
 * - `after-dead-letter-write`: the dead letter is durable, the record is
 *   not settled yet on its topic.
 *
 * Read once at startup; unset in production, where a point costs one
 * comparison.
 */
const armed = process.env['BRAID_FAULT_POINT'] ?? '';

/** Kills the process here if `name` is the armed fault point. */
export function faultPoint(name: string): void {
  if (armed !== '' && armed === name) process.kill(process.pid, 'SIGKILL');
}
