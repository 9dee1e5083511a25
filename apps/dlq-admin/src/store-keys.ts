/**
 * Keys of dlq-admin's RocksDB database: ordered binary tuples, one prefix
 * byte per keyspace, then the dead-letter topic's name ended by 0x00 (names
 * are `[A-Za-z0-9._-]`, so 0x00 never occurs in one and a topic's keys form
 * one range), then partition (u32) and offset (u64), big-endian, so a
 * partition's records are one range scan in offset order.
 */
import type { KeyRange } from '@braid/storage';

/** The keyspaces. */
export const Keyspace = {
  /** topic, partition -> next offset to read (u64). */
  cursor: 0x01,
  /** topic, partition, offset -> the `DeadLetter` without its value (dlq partition and offset filled in). */
  record: 0x02,
  /** topic, partition, offset -> the record's value. */
  value: 0x03,
  /** topic, partition, offset -> why it left the queue (`RemovalMark`, JSON). */
  removed: 0x04,
  /**
   * topic, partition, offset -> what a redriven record carried when it left:
   * a `DeadLetter` with only `redrive_count` and `edits` set. A dead letter
   * whose `braid-redriven-from` header names this record inherits both.
   */
  redriven: 0x05,
  /** id (u64) -> `AuditEntry`. */
  audit: 0x06,
  /** topic -> the topic's id (u32), to notice a topic deleted and created again. */
  topic: 0x07,
  // --- alerts (apps/dlq-admin/src/alerts/) ---
  /** rule id (UTF-8) -> `AlertRule`. */
  alertRule: 0x08,
  /** rule id (UTF-8) -> `AlertState` without its rule (status, since, value). */
  alertState: 0x09,
  /** event id (u64) -> `AlertEvent` with its webhook deliveries. */
  alertEvent: 0x0a,
} as const;

/** A keyspace's prefix byte. */
export type KeyspaceId = (typeof Keyspace)[keyof typeof Keyspace];

function topicBytes(topic: string): Buffer {
  return Buffer.from(`${topic}\u0000`, 'utf8');
}

/** Key of a partition's read cursor. */
export function cursorKey(topic: string, partition: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(partition);
  return Buffer.concat([Buffer.of(Keyspace.cursor), topicBytes(topic), tail]);
}

/** Key of one dead letter in a per-record keyspace. */
export function recordKey(space: KeyspaceId, topic: string, partition: number, offset: number): Buffer {
  const tail = Buffer.alloc(12);
  tail.writeUInt32BE(partition, 0);
  tail.writeBigUInt64BE(BigInt(offset), 4);
  return Buffer.concat([Buffer.of(space), topicBytes(topic), tail]);
}

/** Topic, partition and offset of a per-record key (or a cursor key, with offset 0). */
export function decodeRecordKey(key: Buffer): { topic: string; partition: number; offset: number } {
  const end = key.indexOf(0, 1);
  if (end < 0) throw new Error(`malformed dlq-admin key ${key.toString('hex')}`);
  const topic = key.toString('utf8', 1, end);
  const partition = key.readUInt32BE(end + 1);
  const offset = key.length >= end + 13 ? Number(key.readBigUInt64BE(end + 5)) : 0;
  return { topic, partition, offset };
}

/** Key of a known dead-letter topic. */
export function topicKey(topic: string): Buffer {
  return Buffer.concat([Buffer.of(Keyspace.topic), Buffer.from(topic, 'utf8')]);
}

/** Topic name of a `topicKey`. */
export function decodeTopicKey(key: Buffer): string {
  return key.toString('utf8', 1);
}

/** Key of an audit entry. */
export function auditKey(id: number): Buffer {
  const key = Buffer.alloc(9);
  key[0] = Keyspace.audit;
  key.writeBigUInt64BE(BigInt(id), 1);
  return key;
}

/** Id of an `auditKey`. */
export function decodeAuditKey(key: Buffer): number {
  return Number(key.readBigUInt64BE(1));
}

/** Every key of a keyspace. */
export function spaceRange(space: KeyspaceId): KeyRange {
  return { gte: Buffer.of(space), lt: Buffer.of(space + 1) };
}

/** Every key of one topic in a per-topic keyspace. */
export function topicRange(space: KeyspaceId, topic: string): KeyRange {
  const prefix = Buffer.concat([Buffer.of(space), Buffer.from(topic, 'utf8')]);
  return { gte: Buffer.concat([prefix, Buffer.of(0)]), lt: Buffer.concat([prefix, Buffer.of(1)]) };
}

// --- alerts (apps/dlq-admin/src/alerts/) ---

/** Key of an alert rule (`Keyspace.alertRule`) or its state (`Keyspace.alertState`). */
export function alertRuleKey(space: typeof Keyspace.alertRule | typeof Keyspace.alertState, id: string): Buffer {
  return Buffer.concat([Buffer.of(space), Buffer.from(id, 'utf8')]);
}

/** Rule id of an `alertRuleKey`. */
export function decodeAlertRuleKey(key: Buffer): string {
  return key.toString('utf8', 1);
}

/** Key of an alert event. */
export function alertEventKey(id: number): Buffer {
  const key = Buffer.alloc(9);
  key[0] = Keyspace.alertEvent;
  key.writeBigUInt64BE(BigInt(id), 1);
  return key;
}

/** Id of an `alertEventKey`. */
export function decodeAlertEventKey(key: Buffer): number {
  return Number(key.readBigUInt64BE(1));
}
