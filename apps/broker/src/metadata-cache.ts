/**
 * The broker's view of cluster metadata, as last pushed by the coordinator
 * (WatchMetadata) or fetched on a cache miss. Lookups are synchronous so the
 * publish path never waits for the coordinator; only unknown topics trigger a
 * fetch.
 *
 * It also holds this broker's leader epoch (from its latest registration):
 * the broker leads a partition only while the metadata names it leader and
 * shows no epoch above its own. A higher epoch means another process
 * registered under this broker id since (this one is a "zombie" that was
 * paused or cut off): it must not serve. A lower one is metadata that has
 * not caught up with the broker's latest registration yet, which is fine.
 * Until its first registration, and while fenced (`fence`), the broker
 * leads nothing.
 */
import { EventEmitter } from 'node:events';
import { Durability, PartitionStatus } from '@braid/proto';
import type { GetMetadataResponse, PartitionInfo, Subscription, TopicConfig, TopicMetadata } from '@braid/proto';

/** A topic as the broker needs it, with defaults filled in. */
export interface TopicView {
  name: string;
  id: number;
  partitions: number;
  durability: 'fsync' | 'write';
  maxRecordBytes: number;
  retentionMs: number;
  retentionBytes: number;
  /** Partition metadata by partition number. */
  partitionInfo: PartitionInfo[];
  /** Subscriptions by name. */
  subscriptions: ReadonlyMap<string, Subscription>;
}

/** Default max record size when the coordinator sent none (1 MiB). */
const defaultMaxRecordBytes = 1024 * 1024;

function toView(metadata: TopicMetadata): TopicView {
  const name = metadata.topic?.name ?? '';
  const id = metadata.topic?.id ?? 0;
  const config: TopicConfig | undefined = metadata.topic?.config;
  const sorted = [...metadata.partitions].sort((a, b) => a.partition - b.partition);
  return {
    name,
    id,
    partitions: config?.partitions || sorted.length || 1,
    durability: config?.durability === Durability.DURABILITY_WRITE ? 'write' : 'fsync',
    maxRecordBytes: config?.maxRecordBytes || defaultMaxRecordBytes,
    retentionMs: config?.retentionMs ?? 0,
    retentionBytes: config?.retentionBytes ?? 0,
    partitionInfo: sorted,
    subscriptions: new Map(metadata.subscriptions.map((s) => [s.name, s])),
  };
}

/** Emits `change` (with the previous topics by name) after every update. */
export class MetadataCache extends EventEmitter<{ change: [previous: ReadonlyMap<string, TopicView>] }> {
  private topics = new Map<string, TopicView>();
  private currentVersion = -1;
  private brokerAddresses = new Map<string, string>();
  private ownEpoch: number | undefined;
  private isFenced = false;

  /** Version of the metadata held (-1 before the first update). */
  get version(): number {
    return this.currentVersion;
  }

  /** This broker's leader epoch from its latest registration; undefined before the first. */
  get leaderEpoch(): number | undefined {
    return this.ownEpoch;
  }

  /** Whether the broker is fenced: another process holds its id (see `fence`). */
  get fenced(): boolean {
    return this.isFenced;
  }

  /**
   * Sets this broker's leader epoch after a registration (which also ends
   * a fence). Leadership may change, so listeners hear `change` (with the
   * topics unchanged).
   */
  setLeaderEpoch(epoch: number): void {
    if (epoch === this.ownEpoch && !this.isFenced) return;
    this.ownEpoch = epoch;
    this.isFenced = false;
    this.emit('change', this.topics);
  }

  /**
   * Fences the broker: a registration found another live process under
   * its id, so it leads nothing until it registers again.
   */
  fence(): void {
    if (this.isFenced) return;
    this.isFenced = true;
    this.emit('change', this.topics);
  }

  /** Replaces the whole view (WatchMetadata sends full snapshots). */
  replace(metadata: GetMetadataResponse): void {
    if (metadata.version < this.currentVersion) return;
    const previous = this.topics;
    this.topics = new Map(
      metadata.topics
        .filter((t) => t.topic !== undefined)
        .map((t) => [t.topic?.name ?? '', toView(t)]),
    );
    this.brokerAddresses = new Map(metadata.brokers.map((b) => [b.brokerId, b.address]));
    this.currentVersion = metadata.version;
    this.emit('change', previous);
  }

  /** Merges topics fetched on a cache miss, without dropping others. */
  merge(metadata: GetMetadataResponse): void {
    for (const t of metadata.topics) {
      if (!t.topic) continue;
      this.topics.set(t.topic.name, toView(t));
    }
    for (const b of metadata.brokers) this.brokerAddresses.set(b.brokerId, b.address);
  }

  /** The topic named `name`, if known. */
  topic(name: string): TopicView | undefined {
    return this.topics.get(name);
  }

  /** Every known topic. */
  allTopics(): IterableIterator<TopicView> {
    return this.topics.values();
  }

  /** Partitions of `topic` that `brokerId` leads. */
  ledPartitions(topic: TopicView, brokerId: string): number[] {
    const led: number[] = [];
    for (let partition = 0; partition < topic.partitions; partition++) {
      if (this.leadership(topic, partition, brokerId).leads) led.push(partition);
    }
    return led;
  }

  /**
   * Whether `brokerId` (this broker) leads `partition` of `topic`: the
   * partition is available, names it leader, and shows no epoch above this
   * broker's (see the file comment).
   */
  leadership(topic: TopicView, partition: number, brokerId: string): { leads: boolean; info: PartitionInfo | undefined } {
    const info = topic.partitionInfo.find((p) => p.partition === partition);
    if (!info) return { leads: false, info };
    const leads =
      info.leaderId === brokerId &&
      info.status !== PartitionStatus.PARTITION_STATUS_UNAVAILABLE &&
      !this.isFenced &&
      this.ownEpoch !== undefined &&
      info.leaderEpoch <= this.ownEpoch;
    return { leads, info };
  }

  /** The address of a broker, if known. */
  addressOf(brokerId: string): string | undefined {
    return this.brokerAddresses.get(brokerId);
  }
}
