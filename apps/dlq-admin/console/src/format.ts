/** Formatting for the console: times, ages, counts and payloads. */
import type { BytesView } from './api.js';

/** `2026-11-29 01:30:31.123` in the browser's time zone. */
export function formatTime(ms: number): string {
  if (ms === 0) return '—';
  const date = new Date(ms);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** `4 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

const numberFormat = new Intl.NumberFormat('en');

/** `100,000`. */
export function formatCount(n: number): string {
  return numberFormat.format(n);
}

/** `<input type="datetime-local">` value for Unix ms (local time), '' for 0/undefined. */
export function toLocalInput(ms: number | undefined): string {
  if (ms === undefined || ms === 0) return '';
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 19);
}

/** Unix ms of an `<input type="datetime-local">` value, undefined when empty or invalid. */
export function fromLocalInput(value: string): number | undefined {
  if (value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** How a payload is best shown. */
export interface Payload {
  kind: 'json' | 'text' | 'binary';
  /** What to show: pretty JSON, the text, or base64. */
  shown: string;
}

/** Pretty-printed JSON when `text` parses as an object or array, else undefined. */
export function prettyJson(text: string): string | undefined {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    // Looks like JSON but is not: show it as text.
    return undefined;
  }
}

/** A payload as JSON, text or base64. */
export function payloadOf(bytes: BytesView): Payload {
  if (bytes.text === null) return { kind: 'binary', shown: bytes.base64 };
  const pretty = prettyJson(bytes.text);
  return pretty === undefined ? { kind: 'text', shown: bytes.text } : { kind: 'json', shown: pretty };
}

/** A key for display: its text, or base64 marked as such, or `(none)`. */
export function keyText(key: BytesView | null): string {
  if (key === null) return '(none)';
  return key.text ?? `base64:${key.base64}`;
}
