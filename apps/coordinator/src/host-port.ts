/**
 * `host:port` addresses, as brokers register them and as `--etcd-endpoints`
 * lists them: one rule, so the coordinator accepts the same forms
 * everywhere.
 */

// The host may be a name, IPv4, or a bracketed IPv6 address.
const hostPortPattern = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Whether `value` is `host:port` with a port in 1-65535. */
export function isHostPort(value: string): boolean {
  const port = hostPortPattern.exec(value)?.[1];
  return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
}
