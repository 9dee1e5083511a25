/**
 * How `braid topic list` and `braid topic describe` print topics: aligned
 * columns with one header line, zero limits spelled out (`forever`,
 * `unlimited`).
 */
import { Durability, PartitionStatus } from '@braid/client';
import type { DescribeTopicResponse, Topic, TopicConfig } from '@braid/client';

/** Aligns `rows` under `headers`, two spaces between columns, no trailing blanks. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

/** `fsync`, `write` or `default`. */
export function durabilityName(durability: Durability): string {
  switch (durability) {
    case Durability.DURABILITY_FSYNC:
      return 'fsync';
    case Durability.DURABILITY_WRITE:
      return 'write';
    default:
      return 'default';
  }
}

/** `AVAILABLE`, `UNAVAILABLE` or `UNKNOWN`. */
export function statusName(status: PartitionStatus): string {
  switch (status) {
    case PartitionStatus.PARTITION_STATUS_AVAILABLE:
      return 'AVAILABLE';
    case PartitionStatus.PARTITION_STATUS_UNAVAILABLE:
      return 'UNAVAILABLE';
    default:
      return 'UNKNOWN';
  }
}

const emptyConfig: TopicConfig = { partitions: 0, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_UNSPECIFIED, maxRecordBytes: 0 };

function settings(config: TopicConfig | undefined) {
  const c = config ?? emptyConfig;
  return {
    partitions: String(c.partitions),
    durability: durabilityName(c.durability),
    retentionMs: c.retentionMs === 0 ? 'forever' : String(c.retentionMs),
    retentionBytes: c.retentionBytes === 0 ? 'unlimited' : String(c.retentionBytes),
    maxRecordBytes: c.maxRecordBytes === 0 ? 'default' : String(c.maxRecordBytes),
  };
}

/** The table of `braid topic list`. */
export function formatTopicList(topics: readonly Topic[]): string {
  return formatTable(
    ['NAME', 'PARTITIONS', 'DURABILITY', 'RETENTION_MS', 'RETENTION_BYTES', 'MAX_RECORD_BYTES'],
    topics.map((t) => {
      const s = settings(t.config);
      return [t.name, s.partitions, s.durability, s.retentionMs, s.retentionBytes, s.maxRecordBytes];
    }),
  );
}

/** Settings and partitions, as `braid topic describe` prints them. */
export function formatTopicDescription(described: DescribeTopicResponse): string {
  const topic = described.topic;
  const s = settings(topic?.config);
  const fields: [string, string][] = [
    ['Topic', topic?.name ?? '?'],
    ['Id', String(topic?.id ?? '?')],
    ['Created', topic?.createdAtMs ? new Date(topic.createdAtMs).toISOString() : '?'],
    ['Partitions', s.partitions],
    ['Durability', s.durability],
    ['Retention ms', s.retentionMs],
    ['Retention bytes', s.retentionBytes],
    ['Max record bytes', s.maxRecordBytes],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  const header = fields.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${value}\n`).join('');
  const partitions = formatTable(
    ['PARTITION', 'LEADER', 'ADDRESS', 'EPOCH', 'STATUS', 'HIGH_WATERMARK'],
    described.partitions.map((p) => [
      String(p.partition),
      p.leaderId || '-',
      p.leaderAddress || '-',
      String(p.leaderEpoch),
      statusName(p.status),
      String(p.highWatermark),
    ]),
  );
  return `${header}\n${partitions}`;
}
