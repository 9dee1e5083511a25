/**
 * Topic settings as a client sends them (`TopicConfig`, zero meaning "use
 * the default") checked against their limits and completed with defaults.
 * Every rejection is INVALID_ARGUMENT naming the field (as spelled in the
 * .proto), the allowed range and the value received.
 */
import { InvalidArgumentError } from '@braid/core';
import { Durability } from '@braid/proto';
import type { TopicConfig } from '@braid/proto';
import { topicDefaults, topicLimits } from './defaults.js';

/** Settings of a topic with every default filled in. */
export interface TopicSettings {
  /** Partitions, 1-4096. */
  partitions: number;
  /** Age-based retention (ms); 0 keeps records forever. */
  retentionMs: number;
  /** Size-based retention per partition (bytes); 0 means no limit. */
  retentionBytes: number;
  /** DURABILITY_FSYNC or DURABILITY_WRITE (never UNSPECIFIED). */
  durability: Durability.DURABILITY_FSYNC | Durability.DURABILITY_WRITE;
  /** Largest accepted record (bytes), 1-32 MiB. */
  maxRecordBytes: number;
}

function invalid(field: string, got: number, rule: string, limit?: number): InvalidArgumentError {
  const metadata: Record<string, string> = { field, got: String(got) };
  if (limit !== undefined) metadata['limit'] = String(limit);
  return new InvalidArgumentError(`${field} ${rule} (got ${got})`, { metadata });
}

/**
 * Validates `config` and fills in defaults. Throws `InvalidArgumentError`
 * for the first setting out of range.
 */
export function resolveTopicSettings(config: TopicConfig | undefined): TopicSettings {
  const partitions = config?.partitions ?? 0;
  if (partitions < 0 || partitions > topicLimits.maxPartitions) {
    throw invalid(
      'config.partitions',
      partitions,
      `must be between 1 and ${topicLimits.maxPartitions}, or 0 for the default ${topicDefaults.partitions}`,
      topicLimits.maxPartitions,
    );
  }
  const retentionMs = config?.retentionMs ?? 0;
  if (retentionMs < 0) throw invalid('config.retention_ms', retentionMs, 'must not be negative (0 keeps records forever)', 0);
  const retentionBytes = config?.retentionBytes ?? 0;
  if (retentionBytes < 0) throw invalid('config.retention_bytes', retentionBytes, 'must not be negative (0 means no size limit)', 0);
  const durability = resolveDurability(config?.durability ?? Durability.DURABILITY_UNSPECIFIED);
  const maxRecordBytes = config?.maxRecordBytes ?? 0;
  if (maxRecordBytes < 0 || maxRecordBytes > topicLimits.maxRecordBytes) {
    throw invalid(
      'config.max_record_bytes',
      maxRecordBytes,
      `must be between 1 and ${topicLimits.maxRecordBytes}, or 0 for the default ${topicDefaults.maxRecordBytes}`,
      topicLimits.maxRecordBytes,
    );
  }
  return {
    partitions: partitions === 0 ? topicDefaults.partitions : partitions,
    retentionMs,
    retentionBytes,
    durability,
    maxRecordBytes: maxRecordBytes === 0 ? topicDefaults.maxRecordBytes : maxRecordBytes,
  };
}

function resolveDurability(value: Durability): TopicSettings['durability'] {
  switch (value) {
    case Durability.DURABILITY_UNSPECIFIED:
      return topicDefaults.durability;
    case Durability.DURABILITY_FSYNC:
      return Durability.DURABILITY_FSYNC;
    case Durability.DURABILITY_WRITE:
      return Durability.DURABILITY_WRITE;
    default:
      // A newer client may send a value this coordinator does not know;
      // guessing would silently weaken (or strengthen) the durability.
      throw invalid(
        'config.durability',
        value,
        `is not a known Durability: use DURABILITY_FSYNC (${Durability.DURABILITY_FSYNC}), DURABILITY_WRITE (${Durability.DURABILITY_WRITE}) or 0 for the default`,
      );
  }
}

/** `settings` as the contract's `TopicConfig`. */
export function topicConfigMessage(settings: TopicSettings): TopicConfig {
  return { ...settings };
}
