import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { BraidError } from '@braid/core';
import { Durability, TopicConfig } from '@braid/proto';
import { resolveTopicSettings } from './topic-settings.js';

/** A Durability value this coordinator does not know (a newer client might send one). */
const unknownDurability = TopicConfig.decode(Buffer.from([0x20, 0x07])).durability;

function rejection(config: Partial<TopicConfig>): BraidError {
  try {
    resolveTopicSettings(TopicConfig.fromPartial(config));
  } catch (error) {
    if (error instanceof BraidError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(config)}`);
}

describe('resolveTopicSettings', () => {
  it('fills every default when the config is missing or all zero', () => {
    const defaults = { partitions: 1, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 1_048_576 };
    expect(resolveTopicSettings(undefined)).toEqual(defaults);
    expect(resolveTopicSettings(TopicConfig.fromPartial({}))).toEqual(defaults);
  });

  it('keeps explicit values, including the bounds', () => {
    expect(
      resolveTopicSettings(
        TopicConfig.fromPartial({
          partitions: 4096,
          retentionMs: 86_400_000,
          retentionBytes: 1 << 30,
          durability: Durability.DURABILITY_WRITE,
          maxRecordBytes: 32 * 1024 * 1024,
        }),
      ),
    ).toEqual({ partitions: 4096, retentionMs: 86_400_000, retentionBytes: 1 << 30, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 32 * 1024 * 1024 });
    expect(resolveTopicSettings(TopicConfig.fromPartial({ partitions: 1, maxRecordBytes: 1 }))).toMatchObject({ partitions: 1, maxRecordBytes: 1 });
  });

  it.each([
    [{ partitions: -1 }, 'config.partitions must be between 1 and 4096, or 0 for the default 1 (got -1)'],
    [{ partitions: 4097 }, 'config.partitions must be between 1 and 4096, or 0 for the default 1 (got 4097)'],
    [{ retentionMs: -1 }, 'config.retention_ms must not be negative (0 keeps records forever) (got -1)'],
    [{ retentionBytes: -5 }, 'config.retention_bytes must not be negative (0 means no size limit) (got -5)'],
    [{ durability: unknownDurability }, 'config.durability is not a known Durability: use DURABILITY_FSYNC (1), DURABILITY_WRITE (2) or 0 for the default (got 7)'],
    [{ maxRecordBytes: -1 }, 'config.max_record_bytes must be between 1 and 33554432, or 0 for the default 1048576 (got -1)'],
    [{ maxRecordBytes: 32 * 1024 * 1024 + 1 }, 'config.max_record_bytes must be between 1 and 33554432, or 0 for the default 1048576 (got 33554433)'],
  ])('rejects %j with INVALID_ARGUMENT naming the field and limit', (config, message) => {
    const error = rejection(config);
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(message);
    expect(error.metadata['field']).toMatch(/^config\./);
  });
});
