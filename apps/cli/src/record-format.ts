/**
 * How `braid consume` prints a record: one line each, either
 * `partition offset key value` (key `-` when absent; line breaks in key and
 * value escaped as `\n` / `\r` so a record stays on one line) or, with
 * `--json`, one JSON object per line.
 */
import type { Message } from '@braid/client';

/** What `--json` prints for one record. */
export interface RecordJson {
  partition: number;
  offset: number;
  /** UTF-8 key, or null without a key. */
  key: string | null;
  /** UTF-8 value. */
  value: string;
  headers: Record<string, string>;
  attempt: number;
  /** ISO 8601 time the leader appended the record. */
  publishTime: string;
}

type Printable = Pick<Message, 'partition' | 'offset' | 'key' | 'value' | 'headers' | 'attempt' | 'publishTime'>;

function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** `partition offset key value` and a newline. */
export function formatRecordText(record: Printable): string {
  const key = record.key === undefined ? '-' : oneLine(record.key.toString('utf8'));
  return `${record.partition} ${record.offset} ${key} ${oneLine(record.value.toString('utf8'))}\n`;
}

/** The record as one JSON object and a newline. */
export function formatRecordJson(record: Printable): string {
  const json: RecordJson = {
    partition: record.partition,
    offset: record.offset,
    key: record.key === undefined ? null : record.key.toString('utf8'),
    value: record.value.toString('utf8'),
    headers: { ...record.headers },
    attempt: record.attempt,
    publishTime: record.publishTime.toISOString(),
  };
  return `${JSON.stringify(json)}\n`;
}
