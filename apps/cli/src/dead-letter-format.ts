/**
 * How `braid dlq records` and `braid dlq show` print dead letters. `records`: one
 * table row per dead letter (where it is in the dead-letter topic, where it
 * came from, key, attempts, how the last attempt ended, when it was
 * dead-lettered, the last reason last because it is free text) or, with
 * `--json`, one object per line. `show`: the whole dead letter (origin, key,
 * headers, value as pretty JSON, text or base64, and the attempt ledger as a
 * timeline from publish to dead-lettering) or, with `--json`, one object.
 */
import { AttemptDisposition } from '@braid/client';
import type { Attempt, DeadLetter } from '@braid/client';
import { formatTable } from './topic-format.js';

/** How bytes were rendered: parsed JSON, UTF-8 text, or base64 (anything else). */
export type BytesEncoding = 'json' | 'text' | 'base64';

/** Bytes as something printable, and how. */
export interface RenderedBytes {
  encoding: BytesEncoding;
  /** The text (for `json`, the parsed value). */
  value: unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 without control characters other than tab and line breaks, else undefined. */
function printableText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // Not UTF-8: the caller falls back to base64.
    return undefined;
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is being looked for
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** A value: parsed JSON when it parses, else UTF-8 text, else base64. */
export function renderValue(bytes: Uint8Array): RenderedBytes {
  const text = printableText(bytes);
  if (text === undefined) return { encoding: 'base64', value: Buffer.from(bytes).toString('base64') };
  if (text.trim() !== '') {
    try {
      return { encoding: 'json', value: JSON.parse(text) as unknown };
    } catch {
      // Not JSON: print it as text.
    }
  }
  return { encoding: 'text', value: text };
}

/** A key: UTF-8 text, else base64. */
export function renderKey(bytes: Uint8Array): RenderedBytes {
  const text = printableText(bytes);
  return text === undefined ? { encoding: 'base64', value: Buffer.from(bytes).toString('base64') } : { encoding: 'text', value: text };
}

function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** A key on one line: `-` when absent, `base64:...` when not text. */
function keyCell(key: Uint8Array | undefined): string {
  if (key === undefined) return '-';
  const rendered = renderKey(key);
  return rendered.encoding === 'base64' ? `base64:${String(rendered.value)}` : oneLine(String(rendered.value));
}

/** `nack`, `reject`, `lease_expired`, `member_left`, `ack`, `dead_letter`, `redrive` or `-`. */
export function dispositionName(disposition: AttemptDisposition): string {
  switch (disposition) {
    case AttemptDisposition.DISPOSITION_ACK:
      return 'ack';
    case AttemptDisposition.DISPOSITION_NACK:
      return 'nack';
    case AttemptDisposition.DISPOSITION_REJECT:
      return 'reject';
    case AttemptDisposition.DISPOSITION_LEASE_EXPIRED:
      return 'lease_expired';
    case AttemptDisposition.DISPOSITION_DEAD_LETTER:
      return 'dead_letter';
    case AttemptDisposition.DISPOSITION_MEMBER_LEFT:
      return 'member_left';
    case AttemptDisposition.DISPOSITION_REDRIVE:
      return 'redrive';
    default:
      return '-';
  }
}

/** A Unix ms time as ISO 8601, or `-` when unset (0). */
export const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '-');

/** One entry of `dlq records`: a decoded dead letter, or a record of the topic that is not one. */
export type ListedDeadLetter =
  | { deadLetter: DeadLetter }
  | { partition: number; offset: number; problem: string };

/** The table of `braid dlq records`. */
export function formatDeadLetterList(entries: readonly ListedDeadLetter[]): string {
  return formatTable(
    ['PARTITION', 'OFFSET', 'ORIGIN', 'KEY', 'ATTEMPTS', 'LAST', 'ERROR_CLASS', 'DEAD_LETTERED', 'REASON'],
    entries.map((entry) => {
      if (!('deadLetter' in entry)) return [String(entry.partition), String(entry.offset), '-', '-', '-', '-', '-', '-', `(${oneLine(entry.problem)})`];
      const d = entry.deadLetter;
      const last = d.attempts.at(-1);
      return [
        String(d.dlqPartition),
        String(d.dlqOffset),
        d.origin ? `${d.origin.partition}/${d.origin.offset}` : '-',
        keyCell(d.origin?.key),
        String(d.attempts.length),
        last ? dispositionName(last.disposition) : '-',
        last?.errorClass || '-',
        iso(d.deadLetteredAtMs),
        last?.reason ? oneLine(last.reason) : '-',
      ];
    }),
  );
}

/** What `dlq records --json` prints for one dead letter. */
export interface DeadLetterSummaryJson {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: number;
  origin: { topic: string; partition: number; offset: number; subscription: string } | null;
  /** The key as text (or base64, see `keyEncoding`); null without a key. */
  key: string | null;
  keyEncoding: BytesEncoding | null;
  attempts: number;
  /** How the last attempt ended, its reason and error class; null without attempts. */
  last: { disposition: string; reason: string; errorClass: string; time: string } | null;
  /** ISO 8601 times. */
  publishTime: string;
  deadLetteredAt: string;
  redriveCount: number;
  /** Set (and everything above empty) for a record of the topic that is not a dead letter. */
  problem?: string;
}

function originJson(d: DeadLetter): DeadLetterSummaryJson['origin'] {
  return d.origin ? { topic: d.origin.topic, partition: d.origin.partition, offset: d.origin.offset, subscription: d.origin.subscription } : null;
}

function keyJson(key: Uint8Array | undefined): { key: string | null; keyEncoding: BytesEncoding | null } {
  if (key === undefined) return { key: null, keyEncoding: null };
  const rendered = renderKey(key);
  return { key: String(rendered.value), keyEncoding: rendered.encoding };
}

/** One `dlq records --json` line. */
export function formatDeadLetterSummaryJson(dlqTopic: string, entry: ListedDeadLetter): string {
  if (!('deadLetter' in entry)) {
    const json: DeadLetterSummaryJson = {
      dlqTopic, dlqPartition: entry.partition, dlqOffset: entry.offset, origin: null, key: null, keyEncoding: null,
      attempts: 0, last: null, publishTime: '', deadLetteredAt: '', redriveCount: 0, problem: entry.problem,
    };
    return `${JSON.stringify(json)}\n`;
  }
  const d = entry.deadLetter;
  const last = d.attempts.at(-1);
  const json: DeadLetterSummaryJson = {
    dlqTopic,
    dlqPartition: d.dlqPartition,
    dlqOffset: d.dlqOffset,
    origin: originJson(d),
    ...keyJson(d.origin?.key),
    attempts: d.attempts.length,
    last: last ? { disposition: dispositionName(last.disposition), reason: last.reason, errorClass: last.errorClass, time: iso(last.timeMs) } : null,
    publishTime: iso(d.publishTimeMs),
    deadLetteredAt: iso(d.deadLetteredAtMs),
    redriveCount: d.redriveCount,
  };
  return `${JSON.stringify(json)}\n`;
}

/** `+850ms`, `+1.5s`, `+2m05s`, `+3h04m`: the gap between two ledger events. */
export function formatGap(ms: number): string {
  if (ms < 0) return `-${formatGap(-ms).slice(1)}`;
  if (ms < 1000) return `+${ms}ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `+${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `+${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function attemptText(a: Attempt): string {
  const parts = [`attempt ${a.attempt}`, dispositionName(a.disposition)];
  if (a.memberId) parts.push(`member ${a.memberId}`);
  if (a.reason) parts.push(`reason: ${oneLine(a.reason)}`);
  if (a.errorClass) parts.push(`error class: ${a.errorClass}`);
  return parts.join('  ');
}

/** The ledger from publish to dead-lettering, one line per event with the gap since the one before. */
function timeline(d: DeadLetter): string {
  const events: { timeMs: number; what: string }[] = [
    { timeMs: d.publishTimeMs, what: 'published' },
    ...d.attempts.map((a) => ({ timeMs: a.timeMs, what: attemptText(a) })),
    { timeMs: d.deadLetteredAtMs, what: 'dead-lettered' },
  ];
  const rows = events.map((event, i) => {
    const previous = events[i - 1];
    const gap = previous && previous.timeMs > 0 && event.timeMs > 0 ? formatGap(event.timeMs - previous.timeMs) : '';
    return [iso(event.timeMs), gap, event.what];
  });
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => `  ${row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell)).join('  ')}\n`).join('');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`.trimEnd())
    .join('\n');
}

/** The whole dead letter, as `braid dlq show` prints it. */
export function formatDeadLetter(dlqTopic: string, d: DeadLetter): string {
  const origin = d.origin;
  const key = d.origin?.key;
  const renderedKey = key === undefined ? undefined : renderKey(key);
  const fields: [string, string][] = [
    ['Dead letter', `${dlqTopic} partition ${d.dlqPartition} offset ${d.dlqOffset}`],
    ['Origin', origin ? `${origin.topic} partition ${origin.partition} offset ${origin.offset} (subscription ${origin.subscription})` : '-'],
    ['Key', renderedKey === undefined ? '-' : renderedKey.encoding === 'base64' ? `base64:${String(renderedKey.value)}` : oneLine(String(renderedKey.value))],
    ['Published', iso(d.publishTimeMs)],
    ['Dead-lettered', iso(d.deadLetteredAtMs)],
    ['Attempts', String(d.attempts.length)],
    ['Redrives', String(d.redriveCount)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  let out = fields.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${value}\n`).join('');
  const headers = Object.entries(d.headers).sort(([a], [b]) => a.localeCompare(b));
  out += headers.length === 0 ? '\nHeaders: none\n' : `\nHeaders:\n${headers.map(([name, value]) => `  ${name}: ${oneLine(value)}\n`).join('')}`;
  const value = renderValue(d.value);
  const body = value.encoding === 'json' ? JSON.stringify(value.value, null, 2) : String(value.value);
  out += d.value.length === 0 ? '\nValue: empty\n' : `\nValue (${value.encoding === 'json' ? 'JSON' : value.encoding}, ${d.value.length} bytes):\n${indent(body)}\n`;
  out += `\nTimeline:\n${timeline(d)}`;
  if (d.edits.length > 0) out += `\nEdits:\n${d.edits.map((e) => `  ${iso(e.timeMs)}  ${e.actor || '-'}\n`).join('')}`;
  return out;
}

/** What `dlq show --json` prints. */
export interface DeadLetterJson {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: number;
  origin: DeadLetterSummaryJson['origin'];
  key: string | null;
  keyEncoding: BytesEncoding | null;
  headers: Record<string, string>;
  /** The parsed JSON value, the text, or base64 (see `valueEncoding`). */
  value: unknown;
  valueEncoding: BytesEncoding;
  publishTime: string;
  deadLetteredAt: string;
  redriveCount: number;
  attempts: { attempt: number; time: string; memberId: string; disposition: string; reason: string; errorClass: string }[];
  edits: { time: string; actor: string }[];
}

/** The whole dead letter as one JSON object and a newline. */
export function formatDeadLetterJson(dlqTopic: string, d: DeadLetter): string {
  const value = renderValue(d.value);
  const json: DeadLetterJson = {
    dlqTopic,
    dlqPartition: d.dlqPartition,
    dlqOffset: d.dlqOffset,
    origin: originJson(d),
    ...keyJson(d.origin?.key),
    headers: { ...d.headers },
    value: value.value,
    valueEncoding: value.encoding,
    publishTime: iso(d.publishTimeMs),
    deadLetteredAt: iso(d.deadLetteredAtMs),
    redriveCount: d.redriveCount,
    attempts: d.attempts.map((a) => ({
      attempt: a.attempt,
      time: iso(a.timeMs),
      memberId: a.memberId,
      disposition: dispositionName(a.disposition),
      reason: a.reason,
      errorClass: a.errorClass,
    })),
    edits: d.edits.map((e) => ({ time: iso(e.timeMs), actor: e.actor })),
  };
  return `${JSON.stringify(json)}\n`;
}
