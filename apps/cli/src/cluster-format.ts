/**
 * How `braid cluster brokers` prints the registered brokers of a
 * `GetMetadata` answer: one table row per broker (id, address, live or down,
 * how its lease stands against now, its leader epoch, how many partitions
 * it leads) or, with
 * `--json`, one object per line.
 */
import type { GetMetadataResponse } from '@braid/client';
import { formatTable } from './topic-format.js';

type BrokerInfo = GetMetadataResponse['brokers'][number];

/** `live` or `down`: whether the coordinator holds a live lease for the broker. */
export function brokerStatus(broker: Pick<BrokerInfo, 'live'>): 'live' | 'down' {
  return broker.live ? 'live' : 'down';
}

/** `7.2 s`, `45 s`, `2 min 05 s`, `3 h 04 min`: a duration for lease lines. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toString()} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * `expires in 7.2 s`, `expired 3 s ago`, or `-` without a lease: a broker
 * the coordinator recovered as down after a restart has expiry 0.
 */
export function formatLease(leaseExpiresAtMs: number, nowMs: number): string {
  if (leaseExpiresAtMs <= 0) return '-';
  const remainingMs = leaseExpiresAtMs - nowMs;
  return remainingMs > 0 ? `expires in ${formatDuration(remainingMs)}` : `expired ${formatDuration(-remainingMs)} ago`;
}

/** How many partitions, across the answer's topics, each broker id leads. */
export function partitionsLedBy(metadata: Pick<GetMetadataResponse, 'topics'>): Map<string, number> {
  const led = new Map<string, number>();
  for (const topic of metadata.topics) {
    for (const partition of topic.partitions) {
      if (partition.leaderId === '') continue;
      led.set(partition.leaderId, (led.get(partition.leaderId) ?? 0) + 1);
    }
  }
  return led;
}

/** The answer's brokers ordered by id, so output is stable across calls. */
function byId(metadata: Pick<GetMetadataResponse, 'brokers'>): BrokerInfo[] {
  return [...metadata.brokers].sort((a, b) => a.brokerId.localeCompare(b.brokerId));
}

/** The table of `braid cluster brokers`; `nowMs` is the time the lease is measured against. */
export function formatBrokerList(metadata: Pick<GetMetadataResponse, 'brokers' | 'topics'>, nowMs: number): string {
  const led = partitionsLedBy(metadata);
  return formatTable(
    ['BROKER_ID', 'ADDRESS', 'STATUS', 'LEASE', 'EPOCH', 'PARTITIONS_LED'],
    byId(metadata).map((b) => [
      b.brokerId,
      b.address || '-',
      brokerStatus(b),
      formatLease(b.leaseExpiresAtMs, nowMs),
      b.leaderEpoch > 0 ? String(b.leaderEpoch) : '-',
      String(led.get(b.brokerId) ?? 0),
    ]),
  );
}

/** What `cluster brokers --json` prints for one broker. */
export interface BrokerJson {
  brokerId: string;
  address: string;
  live: boolean;
  status: 'live' | 'down';
  /** ISO 8601 time the lease ends unless renewed; null without a lease. */
  leaseExpiresAt: string | null;
  /** Lease time left at `nowMs` (negative once expired); null without a lease. */
  leaseRemainingMs: number | null;
  /** ISO 8601 registration time; null when unknown. */
  registeredAt: string | null;
  /** Leader epoch of its latest registration; null when unknown. */
  leaderEpoch: number | null;
  partitionsLed: number;
}

const isoOrNull = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/** One `cluster brokers --json` line per broker, ordered by id. */
export function formatBrokerListJson(metadata: Pick<GetMetadataResponse, 'brokers' | 'topics'>, nowMs: number): string {
  const led = partitionsLedBy(metadata);
  return byId(metadata)
    .map((b) => {
      const json: BrokerJson = {
        brokerId: b.brokerId,
        address: b.address,
        live: b.live,
        status: brokerStatus(b),
        leaseExpiresAt: isoOrNull(b.leaseExpiresAtMs),
        leaseRemainingMs: b.leaseExpiresAtMs > 0 ? b.leaseExpiresAtMs - nowMs : null,
        registeredAt: isoOrNull(b.registeredAtMs),
        leaderEpoch: b.leaderEpoch > 0 ? b.leaderEpoch : null,
        partitionsLed: led.get(b.brokerId) ?? 0,
      };
      return `${JSON.stringify(json)}\n`;
    })
    .join('');
}
