/**
 * What `npm run cluster` prints once everything serves: each process with
 * its address and pid, where the data is, and commands to paste into
 * another shell.
 */

/** One process of the cluster. */
export interface ClusterMember {
  /** `coordinator`, `etcd`, `broker-1` (`broker` when there is one), `dlq-admin`. */
  name: string;
  /** host:port (etcd: its client endpoint). */
  address: string;
  pid: number;
}

/** What the summary shows. */
export interface ClusterSummary {
  members: ClusterMember[];
  brokerAddresses: string[];
  /** Whether the coordinator keeps its metadata in etcd. */
  etcd: boolean;
  dataDir: string;
  /** Whether the data is kept after exit (`--data-dir`) or removed. */
  dataKept: boolean;
}

/** The lines printed when the cluster is ready, each starting with `[cluster]`. */
export function formatSummary(summary: ClusterSummary): string {
  const width = Math.max(...summary.members.map((m) => m.name.length));
  const addressWidth = Math.max(...summary.members.map((m) => m.address.length));
  const brokers = summary.brokerAddresses;
  const first = brokers[0] ?? '';
  const all = brokers.join(',');
  const lines = [
    `ready: ${brokers.length} broker${brokers.length === 1 ? '' : 's'}, coordinator metadata ${summary.etcd ? 'in etcd' : 'in its embedded store'}`,
    ...summary.members.map((m) => `  ${m.name.padEnd(width)}  ${m.address.padEnd(addressWidth)}  pid ${m.pid}`),
    `data: ${summary.dataDir} (${summary.dataKept ? 'kept after exit' : 'removed on exit'})`,
    `brokers: ${all}`,
    'try, from another shell in this repository:',
    `  npx braid --broker ${first} cluster brokers`,
    `  npx braid --broker ${first} topic create orders --partitions 6 && npx braid --broker ${first} topic describe orders`,
    `  export BRAID_BROKER=${all}   # the CLI and examples bootstrap from these; the SDK routes each partition to its leader`,
    'Ctrl-C (or SIGTERM) stops everything.',
  ];
  return lines.map((line) => `[cluster] ${line}\n`).join('');
}
