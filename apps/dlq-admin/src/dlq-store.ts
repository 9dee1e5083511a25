/**
 * dlq-admin's durable state in its own RocksDB database (`Database` from
 * `@braid/storage`, keys in `store-keys.ts`):
 *
 * - the local copy of every dead letter read from the dead-letter topics
 *   (the `DeadLetter` and, apart, its value, so that "text in the value"
 *   scans raw bytes) and, per partition, where reading continues; written
 *   together in one batch, so a crash never leaves a cursor ahead of its
 *   records;
 * - the overlay: records removed from the queue view (purged or redriven;
 *   their copies are deleted, the mark stays), and what a redriven record
 *   carried (redrive count and edit history) for the dead letter it may
 *   become again; overlay writes are synced before they are acknowledged;
 * - the audit log (`audit-log.ts` uses `putAudit`/`audit`).
 * - alert rules, their states and the alert event log (`alerts/alert-store.ts`).
 *
 * The dead-letter topics themselves are ordinary logs and are never
 * rewritten: purging or redriving changes what dlq-admin shows, not the
 * topic (whose retention eventually drops the records).
 */
import { AlertEvent, AlertRule, AlertState, AuditEntry, DeadLetter } from '@braid/proto';
import { Database } from '@braid/storage';
import type { WriteOp } from '@braid/storage';
import {
  Keyspace,
  auditKey,
  cursorKey,
  decodeAuditKey,
  decodeRecordKey,
  decodeTopicKey,
  recordKey,
  spaceRange,
  topicKey,
  topicRange,
} from './store-keys.js';
import { alertEventKey, alertRuleKey, decodeAlertEventKey, decodeAlertRuleKey } from './store-keys.js';

/** Why a record left the queue view. */
export interface RemovalMark {
  /** Purged or redriven. */
  how: 'purged' | 'redriven';
  /** When (Unix ms). */
  timeMs: number;
  /** The audit entry of the call that removed it. */
  auditId: number;
}

/** What a redriven record carried when it left the queue. */
export interface Departure {
  /** Its redrive count after the redrive (previous + 1). */
  redriveCount: number;
  /** Its edit history, the redrive's own edit last. */
  edits: DeadLetter['edits'];
}

/** A dead letter read from the store. */
export interface StoredDeadLetter {
  /** The dead letter without its value. */
  letter: DeadLetter;
  /** Bytes of its value. */
  valueSize: number;
}

/** A record of a dead-letter topic to keep. */
export interface IndexedRecord {
  /** The decoded dead letter (dlq partition and offset filled in, inherited edits applied). */
  letter: DeadLetter;
}

const empty = Buffer.alloc(0);

function encodeStored(letter: DeadLetter): Buffer {
  const body = DeadLetter.encode({ ...letter, value: empty }).finish();
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(letter.value.length, 0);
  out.set(body, 4);
  return out;
}

function decodeStored(bytes: Buffer): StoredDeadLetter {
  return { valueSize: bytes.readUInt32BE(0), letter: DeadLetter.decode(bytes.subarray(4)) };
}

function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/** See the file comment. */
export class DlqStore {
  private constructor(private readonly db: Database) {}

  /** Opens (creating if missing) the store in `directory`. */
  static async open(directory: string): Promise<DlqStore> {
    return new DlqStore(await Database.open(directory));
  }

  /** Dead-letter topics read so far, with the topic id they had. */
  async topics(): Promise<Map<string, number>> {
    const topics = new Map<string, number>();
    for await (const [key, value] of this.db.entries(spaceRange(Keyspace.topic))) topics.set(decodeTopicKey(key), value.readUInt32BE(0));
    return topics;
  }

  /** Next offset to read per partition of `topic`. */
  async cursors(topic: string): Promise<Map<number, number>> {
    const cursors = new Map<number, number>();
    for await (const [key, value] of this.db.entries(topicRange(Keyspace.cursor, topic))) {
      cursors.set(decodeRecordKey(key).partition, Number(value.readBigUInt64BE(0)));
    }
    return cursors;
  }

  /** Starts keeping `topic` (with its id). */
  async addTopic(topic: string, id: number): Promise<void> {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(id);
    await this.db.write([{ type: 'put', key: topicKey(topic), value }], true);
  }

  /**
   * Forgets everything about `topic` (deleted, or created again under a new
   * id): its records, cursors and overlay.
   */
  async dropTopic(topic: string): Promise<void> {
    for (const space of [Keyspace.cursor, Keyspace.record, Keyspace.value, Keyspace.removed, Keyspace.redriven] as const) {
      await this.db.clear(topicRange(space, topic));
    }
    await this.db.write([{ type: 'del', key: topicKey(topic) }], true);
  }

  /**
   * Keeps `records` read from `topic`/`partition` and moves the partition's
   * cursor to `nextOffset`, atomically.
   */
  async append(topic: string, partition: number, records: readonly IndexedRecord[], nextOffset: number): Promise<void> {
    const ops: WriteOp[] = [];
    for (const { letter } of records) {
      ops.push({ type: 'put', key: recordKey(Keyspace.record, topic, letter.dlqPartition, letter.dlqOffset), value: encodeStored(letter) });
      ops.push({ type: 'put', key: recordKey(Keyspace.value, topic, letter.dlqPartition, letter.dlqOffset), value: letter.value });
    }
    ops.push({ type: 'put', key: cursorKey(topic, partition), value: u64(nextOffset) });
    await this.db.write(ops, false);
  }

  /** Every kept record of `topic` that is not removed, in key order (for building the index at start). */
  async *records(topic: string): AsyncGenerator<StoredDeadLetter> {
    for await (const [, value] of this.db.entries(topicRange(Keyspace.record, topic))) yield decodeStored(value);
  }

  /** One kept record with its value, or undefined. */
  async get(topic: string, partition: number, offset: number): Promise<DeadLetter | undefined> {
    const [stored, value] = await this.db.getMany([
      recordKey(Keyspace.record, topic, partition, offset),
      recordKey(Keyspace.value, topic, partition, offset),
    ]);
    if (stored === undefined) return undefined;
    return { ...decodeStored(stored).letter, value: value ?? empty };
  }

  /** Several kept records with their values, in the order asked (undefined where missing). */
  async getMany(topic: string, refs: readonly { partition: number; offset: number }[]): Promise<(DeadLetter | undefined)[]> {
    const keys = refs.flatMap(({ partition, offset }) => [
      recordKey(Keyspace.record, topic, partition, offset),
      recordKey(Keyspace.value, topic, partition, offset),
    ]);
    const values = await this.db.getMany(keys);
    return refs.map((_, index) => {
      const stored = values[index * 2];
      if (stored === undefined) return undefined;
      return { ...decodeStored(stored).letter, value: values[index * 2 + 1] ?? empty };
    });
  }

  /** The values of every kept record of `topic`, in key order: what "text in the value" scans. */
  async *values(topic: string): AsyncGenerator<{ partition: number; offset: number; value: Buffer }> {
    for await (const [key, value] of this.db.entries(topicRange(Keyspace.value, topic))) {
      const { partition, offset } = decodeRecordKey(key);
      yield { partition, offset, value };
    }
  }

  /** Deletes the copies of `topic`/`partition` below `offset` (the topic's retention dropped them). */
  async dropBelow(topic: string, partition: number, offset: number): Promise<void> {
    for (const space of [Keyspace.record, Keyspace.value] as const) {
      await this.db.clear({ gte: recordKey(space, topic, partition, 0), lt: recordKey(space, topic, partition, offset) });
    }
  }

  /**
   * Marks records removed from the queue view and deletes their copies,
   * durably (synced) before resolving.
   */
  async markRemoved(topic: string, refs: readonly { partition: number; offset: number }[], mark: RemovalMark): Promise<void> {
    const value = Buffer.from(JSON.stringify(mark));
    const ops: WriteOp[] = [];
    for (const { partition, offset } of refs) {
      ops.push({ type: 'put', key: recordKey(Keyspace.removed, topic, partition, offset), value });
      ops.push({ type: 'del', key: recordKey(Keyspace.record, topic, partition, offset) });
      ops.push({ type: 'del', key: recordKey(Keyspace.value, topic, partition, offset) });
    }
    await this.db.write(ops, true);
  }

  /** Records, durably, what redriven records carry (before they are published). */
  async putDepartures(topic: string, departures: readonly { partition: number; offset: number; departure: Departure }[]): Promise<void> {
    const ops: WriteOp[] = departures.map(({ partition, offset, departure }) => ({
      type: 'put',
      key: recordKey(Keyspace.redriven, topic, partition, offset),
      value: Buffer.from(DeadLetter.encode(DeadLetter.fromPartial({ redriveCount: departure.redriveCount, edits: departure.edits })).finish()),
    }));
    await this.db.write(ops, true);
  }

  /** What the record at `topic`/`partition`/`offset` carried when it was redriven, if it was. */
  async departure(topic: string, partition: number, offset: number): Promise<Departure | undefined> {
    const bytes = await this.db.get(recordKey(Keyspace.redriven, topic, partition, offset));
    if (bytes === undefined) return undefined;
    const decoded = DeadLetter.decode(bytes);
    return { redriveCount: decoded.redriveCount, edits: decoded.edits };
  }

  /** Writes (or rewrites) an audit entry, synced. */
  async putAudit(entry: AuditEntry): Promise<void> {
    await this.db.write([{ type: 'put', key: auditKey(entry.id), value: Buffer.from(AuditEntry.encode(entry).finish()) }], true);
  }

  /** Audit entries, newest first, with ids below `beforeId` (all when undefined). */
  async *audit(beforeId: number | undefined): AsyncGenerator<AuditEntry> {
    const range = spaceRange(Keyspace.audit);
    const upper = beforeId === undefined ? range.lt : auditKey(beforeId);
    for await (const [, value] of this.db.entries({ gte: range.gte, lt: upper, reverse: true })) yield AuditEntry.decode(value);
  }

  /** The id of the newest audit entry, or 0. */
  async lastAuditId(): Promise<number> {
    const last = await this.db.first({ ...spaceRange(Keyspace.audit), reverse: true });
    return last === undefined ? 0 : decodeAuditKey(last[0]);
  }

  // --- alerts (apps/dlq-admin/src/alerts/alert-store.ts) ---

  /** Writes (or rewrites) an alert rule, synced. */
  async putAlertRule(rule: AlertRule): Promise<void> {
    await this.db.write([{ type: 'put', key: alertRuleKey(Keyspace.alertRule, rule.id), value: Buffer.from(AlertRule.encode(rule).finish()) }], true);
  }

  /** Deletes an alert rule and its state, synced. */
  async deleteAlertRule(id: string): Promise<void> {
    await this.db.write(
      [
        { type: 'del', key: alertRuleKey(Keyspace.alertRule, id) },
        { type: 'del', key: alertRuleKey(Keyspace.alertState, id) },
      ],
      true,
    );
  }

  /** Every alert rule, in id order. */
  async *alertRules(): AsyncGenerator<AlertRule> {
    for await (const [, value] of this.db.entries(spaceRange(Keyspace.alertRule))) yield AlertRule.decode(value);
  }

  /** Writes a rule's state (without its rule), synced: states change only when a rule crosses its thresholds. */
  async putAlertState(id: string, state: AlertState): Promise<void> {
    const value = Buffer.from(AlertState.encode({ ...state, rule: undefined }).finish());
    await this.db.write([{ type: 'put', key: alertRuleKey(Keyspace.alertState, id), value }], true);
  }

  /** Every stored rule state by rule id. */
  async alertStates(): Promise<Map<string, AlertState>> {
    const states = new Map<string, AlertState>();
    for await (const [key, value] of this.db.entries(spaceRange(Keyspace.alertState))) states.set(decodeAlertRuleKey(key), AlertState.decode(value));
    return states;
  }

  /** Writes (or rewrites) an alert event, synced. */
  async putAlertEvent(event: AlertEvent): Promise<void> {
    await this.db.write([{ type: 'put', key: alertEventKey(event.id), value: Buffer.from(AlertEvent.encode(event).finish()) }], true);
  }

  /** Alert events, newest first. */
  async *alertEvents(): AsyncGenerator<AlertEvent> {
    for await (const [, value] of this.db.entries({ ...spaceRange(Keyspace.alertEvent), reverse: true })) yield AlertEvent.decode(value);
  }

  /** The id of the newest alert event, or 0. */
  async lastAlertEventId(): Promise<number> {
    const last = await this.db.first({ ...spaceRange(Keyspace.alertEvent), reverse: true });
    return last === undefined ? 0 : decodeAlertEventKey(last[0]);
  }

  /** Deletes the alert events with ids below `id` (keeps the log bounded). */
  async dropAlertEventsBelow(id: number): Promise<void> {
    await this.db.clear({ gte: spaceRange(Keyspace.alertEvent).gte, lt: alertEventKey(id) });
  }

  /** Flushes and closes. */
  close(): Promise<void> {
    return this.db.close();
  }
}
