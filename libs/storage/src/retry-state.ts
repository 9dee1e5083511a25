/**
 * A record's retry state in one subscription (its attempt ledger, when it
 * may be delivered again, whether dead-lettering has begun), its stored form
 * (the value of a `[0x07]` retry key) and its place in the due index.
 *
 * Value, version 1 (unsigned LEB128 varints, see `varint.ts`; strings are
 * `[byte length][utf8]`):
 *
 * `[version u8 = 1][flags u8][dueMs][dropped][n]` then n x
 * `[attempt][timeMs][disposition u8][memberId][reason][errorClass]`
 *
 * - `flags` bit 0: `deadLettering`; the other bits are 0.
 * - `dropped`: ledger entries left out of the middle (see below).
 * - `disposition`: 1 nack, 2 reject, 3 lease_expired, 4 member_left.
 *
 * The key fields (topic, partition, subscription, offset) live in the key
 * only. The version byte lets a later issue change the value while
 * reading what this version wrote.
 *
 * **The ledger is bounded** so that a record failing forever cannot grow
 * without bound: at most `retryLedgerLimits.headEntries` (2) oldest and
 * `tailEntries` (30) newest entries are stored, and `droppedAttempts`
 * counts those left out between them (cumulatively: a state read back,
 * given one more entry and stored again drops one more). The first
 * attempts say how the trouble began, the last ones what it is now; the
 * DLQ ledger shows the gap by its `attempt` numbers and the count. Strings
 * are cut (at a UTF-8 character boundary) to `memberIdBytes` (256),
 * `reasonBytes` (1,024) and `errorClassBytes` (256), so a stored state
 * stays below ~50 KB whatever consumers send.
 */
import { InvalidArgumentError, assertValidName } from '@braid/core';
import { retryLedgerLimits } from './defaults.js';
import { assertU32, assertU53 } from './u64.js';
import { ByteReader, ByteWriter } from './varint.js';

const VERSION = 1;
const FLAG_DEAD_LETTERING = 0x01;

/** How a delivery attempt ended. */
export type AttemptDisposition = 'nack' | 'reject' | 'lease_expired' | 'member_left';

const dispositionCodes: Record<AttemptDisposition, number> = { nack: 1, reject: 2, lease_expired: 3, member_left: 4 };
const dispositionsByCode: readonly (AttemptDisposition | undefined)[] = [undefined, 'nack', 'reject', 'lease_expired', 'member_left'];

/** One failed delivery attempt of a record, as the dead-letter ledger shows it. */
export interface AttemptEntry {
  /** The attempt number (the delivery it ended). */
  attempt: number;
  /** When it ended (Unix ms). */
  timeMs: number;
  /** The member that had the record. */
  memberId: string;
  /** How it ended. */
  disposition: AttemptDisposition;
  /** The consumer's reason (nack/reject), or the broker's. */
  reason: string;
  /** The consumer's error class, if it sent one (empty if not). */
  errorClass: string;
}

/** One record of one subscription partition. */
export interface RetryKey {
  topicId: number;
  partition: number;
  subscription: string;
  offset: number;
}

/** A record waiting for a retry or being dead-lettered. */
export interface RetryState extends RetryKey {
  /** Failed attempts, oldest first (bounded when stored: see the file comment). */
  attempts: AttemptEntry[];
  /**
   * Ledger entries the store left out between the first and the last ones
   * (see the file comment). Read back states always carry it (0 if none);
   * on `put` it may be left out (= 0).
   */
  droppedAttempts?: number;
  /** When the record may be delivered again (Unix ms); 0 = at once. */
  dueMs: number;
  /** Dead-lettering has started (the broker finishes it after a crash). */
  deadLettering: boolean;
}

/**
 * A place in the due index, which is ordered by `(dueMs, topicId,
 * partition, subscription, offset)`: right after the state `key` names
 * among those due at `dueMs`, or after all of them without `key`.
 */
export interface DuePosition {
  dueMs: number;
  key?: RetryKey;
}

/**
 * Whether `state` waits for a timer, i.e. has a due-index entry: a due time
 * other than 0 ("at once") and dead-lettering not begun. The others are
 * found by `list` after a restart, not by `due`.
 */
export function waitsForTimer(state: Pick<RetryState, 'dueMs' | 'deadLettering'>): boolean {
  return state.dueMs > 0 && !state.deadLettering;
}

/** `topicId/partition/subscription/offset`: a map key (names hold no `/`). */
export function retryKeyId(key: RetryKey): string {
  return `${key.topicId}/${key.partition}/${key.subscription}/${key.offset}`;
}

/**
 * Orders keys as their stored keys sort: topic, partition, subscription
 * (names are ASCII, so string order is byte order; a name sorts before its
 * extensions, as `[name][0x00]` does), offset.
 */
export function compareRetryKeys(a: RetryKey, b: RetryKey): number {
  if (a.topicId !== b.topicId) return a.topicId - b.topicId;
  if (a.partition !== b.partition) return a.partition - b.partition;
  if (a.subscription !== b.subscription) return a.subscription < b.subscription ? -1 : 1;
  return a.offset - b.offset;
}

/** Orders positions as the due index does; a position without `key` comes after every key of its `dueMs`. */
export function compareDuePositions(a: DuePosition, b: DuePosition): number {
  if (a.dueMs !== b.dueMs) return a.dueMs - b.dueMs;
  if (a.key === undefined) return b.key === undefined ? 0 : 1;
  if (b.key === undefined) return -1;
  return compareRetryKeys(a.key, b.key);
}

/** The due-index position of `state` (right after its own entry). */
export function duePositionOf(state: RetryState): DuePosition {
  return { dueMs: state.dueMs, key: state };
}

/** Throws `InvalidArgumentError`/`InvalidNameError` unless `key` is a valid {@link RetryKey}. */
export function assertRetryKey(key: RetryKey): void {
  const value: unknown = key;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('retry key must be an object');
  assertU32('topicId', key.topicId);
  assertU32('partition', key.partition);
  const subscription: unknown = key.subscription;
  if (typeof subscription !== 'string') throw new InvalidArgumentError('retry key `subscription` must be a string');
  assertValidName('subscription', subscription);
  assertU53('offset', key.offset);
}

function assertString(name: string, value: unknown): void {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be a string, got ${typeof value}`);
}

/**
 * Throws `InvalidArgumentError` (`InvalidNameError` for the subscription)
 * unless `state` has the shape of a {@link RetryState} with integers in
 * [0, 2^53) (u32 for topic and partition) and known dispositions.
 */
export function assertRetryState(state: RetryState): void {
  assertRetryKey(state);
  assertU53('dueMs', state.dueMs);
  const { deadLettering, attempts, droppedAttempts } = state as { deadLettering: unknown; attempts: unknown; droppedAttempts: unknown };
  if (typeof deadLettering !== 'boolean') throw new InvalidArgumentError('retry state `deadLettering` must be a boolean');
  if (droppedAttempts !== undefined) assertU53('droppedAttempts', state.droppedAttempts ?? 0);
  if (!Array.isArray(attempts)) throw new InvalidArgumentError('retry state `attempts` must be an array');
  for (const entry of attempts as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw new InvalidArgumentError('attempt entries must be objects');
    const e = entry as AttemptEntry;
    assertU53('attempt', e.attempt);
    assertU53('attempt timeMs', e.timeMs);
    assertString('attempt memberId', e.memberId);
    assertString('attempt reason', e.reason);
    assertString('attempt errorClass', e.errorClass);
    const disposition: unknown = e.disposition;
    if (typeof disposition !== 'string' || !Object.hasOwn(dispositionCodes, disposition)) {
      throw new InvalidArgumentError(`attempt disposition must be one of ${Object.keys(dispositionCodes).join(', ')}, got ${String(disposition)}`);
    }
  }
}

/** `text` as UTF-8, cut to at most `maxBytes` at a character boundary. */
function boundedUtf8(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so that no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function writeString(writer: ByteWriter, bytes: Buffer): void {
  writer.varint(bytes.length).bytes(bytes);
}

/**
 * Encodes `state` (already checked by {@link assertRetryState}), keeping
 * the first and last ledger entries and cutting long strings (see the file
 * comment). The caller's state is not changed.
 */
export function encodeRetryState(state: RetryState): Buffer {
  const { headEntries, tailEntries } = retryLedgerLimits;
  const all = state.attempts;
  let dropped = state.droppedAttempts ?? 0;
  let kept = all;
  if (all.length > headEntries + tailEntries) {
    kept = [...all.slice(0, headEntries), ...all.slice(all.length - tailEntries)];
    dropped += all.length - kept.length;
  }
  const writer = new ByteWriter(32 + kept.length * 48);
  writer
    .u8(VERSION)
    .u8(state.deadLettering ? FLAG_DEAD_LETTERING : 0)
    .varint(state.dueMs)
    .varint(dropped)
    .varint(kept.length);
  for (const entry of kept) {
    writer.varint(entry.attempt).varint(entry.timeMs).u8(dispositionCodes[entry.disposition]);
    writeString(writer, boundedUtf8(entry.memberId, retryLedgerLimits.memberIdBytes));
    writeString(writer, boundedUtf8(entry.reason, retryLedgerLimits.reasonBytes));
    writeString(writer, boundedUtf8(entry.errorClass, retryLedgerLimits.errorClassBytes));
  }
  return writer.finish();
}

function readString(reader: ByteReader): string {
  const bytes = reader.bytes(reader.varint());
  // A view on the value's memory, not a copy.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Reads `[version][flags]` and returns the flags; throws `RangeError` on an unknown version or flags. */
function readHeader(reader: ByteReader, length: number): number {
  const version = reader.u8();
  if (version !== VERSION) throw new RangeError(`unknown retry state encoding (version ${version}, ${length} bytes)`);
  const flags = reader.u8();
  if ((flags & ~FLAG_DEAD_LETTERING) !== 0) throw new RangeError(`unknown retry state flags 0x${flags.toString(16)}`);
  return flags;
}

/**
 * The due time and dead-lettering flag of a stored value, read from its
 * header only (what the store needs to find a state's due entry, without
 * decoding the ledger). Throws `RangeError` as {@link decodeRetryState}
 * does for a bad header.
 */
export function peekRetryDue(value: Uint8Array): Pick<RetryState, 'dueMs' | 'deadLettering'> {
  const reader = new ByteReader(value);
  const flags = readHeader(reader, value.length);
  return { dueMs: reader.varint(), deadLettering: (flags & FLAG_DEAD_LETTERING) !== 0 };
}

/**
 * Decodes a stored value into the state of `key`; throws `RangeError` on an
 * unknown version, unknown flags or dispositions, or malformed bytes.
 */
export function decodeRetryState(key: RetryKey, value: Uint8Array): RetryState {
  const reader = new ByteReader(value);
  const flags = readHeader(reader, value.length);
  const dueMs = reader.varint();
  const droppedAttempts = reader.varint();
  const n = reader.varint();
  const attempts: AttemptEntry[] = [];
  for (let i = 0; i < n; i++) {
    const attempt = reader.varint();
    const timeMs = reader.varint();
    const code = reader.u8();
    const disposition = dispositionsByCode[code];
    if (disposition === undefined) throw new RangeError(`attempt entry ${i} has an unknown disposition ${code}`);
    const memberId = readString(reader);
    const reason = readString(reader);
    const errorClass = readString(reader);
    attempts.push({ attempt, timeMs, memberId, disposition, reason, errorClass });
  }
  reader.expectDone('a retry state');
  return {
    topicId: key.topicId,
    partition: key.partition,
    subscription: key.subscription,
    offset: key.offset,
    attempts,
    droppedAttempts,
    dueMs,
    deadLettering: (flags & FLAG_DEAD_LETTERING) !== 0,
  };
}
