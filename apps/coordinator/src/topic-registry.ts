/**
 * Topics: their settings, their numeric ids and where their partitions
 * live. A topic's id comes from a durable counter and is never reused, so
 * a topic deleted and created again under the same name starts with no
 * data (storage keys use the id). Partition leaders are chosen once, at
 * creation, by rendezvous hashing over the live brokers with a cap (each
 * leads ceil(partitions / brokers) at most: `balancedRendezvous`), and kept:
 * a broker going down makes its partitions unavailable, it does not move
 * them (leader failover comes with replication).
 */
import { z } from 'zod';
import { AlreadyExistsError, FailedPreconditionError, InternalError, TopicNotFoundError, assertValidName } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { balancedRendezvous, partitionItem } from '@braid/partitioning';
import { Durability } from '@braid/proto';
import type { TopicConfig } from '@braid/proto';
import { clusterDefaults, topicLimits } from './defaults.js';
import type { MetadataChanges } from './metadata-changes.js';
import { metadataKeys } from './metadata-keys.js';
import { del, parseJson, putJson } from './metadata-store.js';
import type { MetadataStore, StoreOp } from './metadata-store.js';
import { resolveTopicSettings } from './topic-settings.js';
import type { TopicSettings } from './topic-settings.js';

/** Where one partition lives. */
export interface PartitionAssignment {
  /** Broker id of the leader. */
  leaderId: string;
  /** Leader epoch; starts at 1 and grows with every leadership change. */
  leaderEpoch: number;
}

/** A topic as the coordinator knows it. */
export interface TopicState {
  name: string;
  /** Numeric id, unique over the cluster's lifetime. */
  id: number;
  createdAtMs: number;
  settings: TopicSettings;
  /** Assignment of partition `p` at index `p`. */
  partitions: readonly PartitionAssignment[];
}

/** Who can lead partitions right now. */
export interface LiveBrokers {
  /** Ids of brokers whose lease is live. */
  liveBrokerIds(): string[];
}

/**
 * Something that keeps metadata per topic (subscriptions): when a topic is
 * deleted, its part is deleted in the same change, so no state outlives
 * its topic and a topic created again under the name starts bare.
 */
export interface TopicDependent {
  /**
   * Plans deleting what belongs to `topic`: the store writes, committed with
   * the topic's own, and the in-memory update once they are durable (must
   * not throw). Called inside the deleting change, so the state is current.
   */
  planTopicDeletion(topic: string): { ops: StoreOp[]; apply(): void };
}

// Stored shapes. Durability is stored by name so the JSON reads well in
// `etcdctl get` and survives a renumbering nobody intends to make.
const storedTopicSchema = z.object({
  name: z.string(),
  id: z.number().int().positive(),
  createdAtMs: z.number().int(),
  settings: z.object({
    partitions: z.number().int().min(1).max(topicLimits.maxPartitions),
    retentionMs: z.number().int().min(0),
    retentionBytes: z.number().int().min(0),
    durability: z.enum(['DURABILITY_FSYNC', 'DURABILITY_WRITE']),
    maxRecordBytes: z.number().int().min(1),
  }),
});
type StoredTopic = z.infer<typeof storedTopicSchema>;

const storedPlacementSchema = z.object({
  topicId: z.number().int().positive(),
  partitions: z.array(z.object({ leaderId: z.string().min(1), leaderEpoch: z.number().int().positive() })),
});
type StoredPlacement = z.infer<typeof storedPlacementSchema>;

/** The largest topic id (`Topic.id` is a uint32). */
const maxTopicId = 0xffff_ffff;

function toStoredTopic(topic: TopicState): StoredTopic {
  const { settings } = topic;
  return {
    name: topic.name,
    id: topic.id,
    createdAtMs: topic.createdAtMs,
    settings: {
      ...settings,
      durability: settings.durability === Durability.DURABILITY_WRITE ? 'DURABILITY_WRITE' : 'DURABILITY_FSYNC',
    },
  };
}

function fromStored(stored: StoredTopic, placement: StoredPlacement): TopicState {
  return {
    name: stored.name,
    id: stored.id,
    createdAtMs: stored.createdAtMs,
    settings: {
      ...stored.settings,
      durability: stored.settings.durability === 'DURABILITY_WRITE' ? Durability.DURABILITY_WRITE : Durability.DURABILITY_FSYNC,
    },
    partitions: placement.partitions,
  };
}

function parseStored<T>(schema: z.ZodType<T>, key: string, value: Buffer): T {
  const result = schema.safeParse(parseJson(value));
  if (!result.success) throw new Error(`metadata store holds a corrupt ${key}: ${result.error.message}`);
  return result.data;
}

/** Options of `TopicRegistry.load`. */
export interface TopicRegistryOptions {
  store: MetadataStore;
  changes: MetadataChanges;
  brokers: LiveBrokers;
  clock: Clock;
  logger: Logger;
}

/** The topics of the cluster; see the file comment. */
export class TopicRegistry {
  private readonly topics = new Map<string, TopicState>();
  private readonly dependents: TopicDependent[] = [];
  private lastTopicId = 0;

  private constructor(private readonly options: TopicRegistryOptions) {}

  /** Loads every topic and its placement from the store. */
  static async load(options: TopicRegistryOptions): Promise<TopicRegistry> {
    const registry = new TopicRegistry(options);
    const { store } = options;
    const placements = new Map<number, StoredPlacement>();
    for (const { key, value } of await store.list(metadataKeys.placementPrefix)) {
      const placement = parseStored(storedPlacementSchema, key, value);
      placements.set(placement.topicId, placement);
    }
    for (const { key, value } of await store.list(metadataKeys.topicPrefix)) {
      const stored = parseStored(storedTopicSchema, key, value);
      const placement = placements.get(stored.id);
      // Topic and placement are written in one batch, so one without the
      // other means the store was damaged: refuse to guess.
      if (placement?.partitions.length !== stored.settings.partitions) {
        throw new Error(
          `metadata store is inconsistent: ${key} (id ${stored.id}, ${stored.settings.partitions} partitions) has no matching ${metadataKeys.placement(stored.id)}`,
        );
      }
      registry.topics.set(stored.name, fromStored(stored, placement));
      registry.lastTopicId = Math.max(registry.lastTopicId, stored.id);
    }
    const counter = await store.get(metadataKeys.topicIdCounter);
    if (counter !== undefined) {
      const last = Number(counter.toString('utf8'));
      if (!Number.isSafeInteger(last) || last < 0) {
        throw new Error(`metadata store holds a corrupt ${metadataKeys.topicIdCounter}: ${JSON.stringify(counter.toString('utf8'))}`);
      }
      registry.lastTopicId = Math.max(registry.lastTopicId, last);
    }
    return registry;
  }

  /**
   * Creates topic `name`. INVALID_ARGUMENT for a bad name or setting,
   * ALREADY_EXISTS if it exists, FAILED_PRECONDITION when no broker is live
   * to lead its partitions.
   */
  async create(name: string, config: TopicConfig | undefined): Promise<TopicState> {
    assertValidName('topic', name);
    const settings = resolveTopicSettings(config);
    return await this.options.changes.run(() => {
      if (this.topics.has(name)) throw new AlreadyExistsError(`topic "${name}" already exists`, { metadata: { topic: name } });
      const live = this.options.brokers.liveBrokerIds();
      if (live.length === 0) {
        throw new FailedPreconditionError(
          `no live brokers: cannot place the partitions of topic "${name}"; start a broker (it registers with the coordinator) and retry`,
          { metadata: { topic: name } },
        );
      }
      const id = this.lastTopicId + 1;
      if (id > maxTopicId) throw new InternalError(`topic ids are exhausted (last id ${this.lastTopicId})`);
      // Rendezvous with a cap, so every broker leads its share (12 over 3: 4/4/4).
      const leaders = balancedRendezvous(Array.from({ length: settings.partitions }, (_, p) => partitionItem(name, p)), live);
      const partitions: PartitionAssignment[] = leaders.map((leaderId) => ({ leaderId, leaderEpoch: clusterDefaults.firstLeaderEpoch }));
      const topic: TopicState = { name, id, createdAtMs: this.options.clock.now(), settings, partitions };
      const placement: StoredPlacement = { topicId: id, partitions };
      return {
        ops: [
          putJson(metadataKeys.topic(name), toStoredTopic(topic)),
          putJson(metadataKeys.placement(id), placement),
          { type: 'put', key: metadataKeys.topicIdCounter, value: Buffer.from(String(id), 'utf8') },
        ],
        apply: () => {
          this.topics.set(name, topic);
          this.lastTopicId = id;
          this.options.logger.info({ topic: name, topicId: id, partitions: settings.partitions }, 'topic created');
        },
        result: topic,
      };
    });
  }

  /** Makes deleting a topic also delete what `dependent` keeps for it, atomically. */
  addDependent(dependent: TopicDependent): void {
    this.dependents.push(dependent);
  }

  /**
   * Deletes topic `name` and everything kept for it (its subscriptions) in
   * one change. INVALID_ARGUMENT for a bad name, NOT_FOUND if unknown.
   */
  async delete(name: string): Promise<TopicState> {
    assertValidName('topic', name);
    return await this.options.changes.run(() => {
      const topic = this.topics.get(name);
      if (!topic) throw new TopicNotFoundError(name);
      const dependents = this.dependents.map((dependent) => dependent.planTopicDeletion(name));
      return {
        ops: [del(metadataKeys.topic(name)), del(metadataKeys.placement(topic.id)), ...dependents.flatMap((d) => d.ops)],
        apply: () => {
          for (const dependent of dependents) dependent.apply();
          this.topics.delete(name);
          this.options.logger.info({ topic: name, topicId: topic.id }, 'topic deleted');
        },
        result: topic,
      };
    });
  }

  /** Every topic, ordered by name. */
  list(): TopicState[] {
    return [...this.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Topic `name`. INVALID_ARGUMENT for a bad name, NOT_FOUND if unknown. */
  get(name: string): TopicState {
    assertValidName('topic', name);
    const topic = this.topics.get(name);
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }
}
