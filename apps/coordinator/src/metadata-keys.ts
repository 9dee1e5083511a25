/**
 * The key layout of the coordinator's metadata store. Keys are
 * `/`-separated strings so they map onto etcd's flat key space unchanged
 * (under a namespace prefix) as well as onto RocksDB's sorted one.
 *
 * | key | value |
 * |---|---|
 * | `counters/metadata-version` | decimal: the last metadata version |
 * | `counters/topic-id` | decimal: the last topic id handed out (ids are never reused) |
 * | `topics/<name>` | JSON `StoredTopic`: id, settings, creation time |
 * | `placement/<topic id, 10 digits>` | JSON `StoredPlacement`: leader and epoch per partition |
 * | `brokers/<broker id>` | JSON `StoredBroker`: address, registration time, and (etcd) the live lease id |
 * | `election/coordinator/<lease id>` | etcd only, written by etcd3's `Election`: a candidate's advertised address |
 * | `subscriptions/<topic>/<name>` | JSON `StoredSubscription`: topic id, settings, creation time |
 *
 * Placement is keyed by topic id, not name, so a re-created topic can never
 * pick up the placement of its predecessor; one value per topic (rather than
 * per partition) keeps a 4096-partition create inside one etcd transaction.
 * Subscriptions are keyed by topic name (names cannot contain `/`, so
 * `subscriptions/<topic>/` lists exactly one topic's) and are deleted in
 * the same batch as their topic.
 */

/** Keys of the coordinator's metadata. */
export const metadataKeys = {
  metadataVersion: 'counters/metadata-version',
  topicIdCounter: 'counters/topic-id',
  topicPrefix: 'topics/',
  topic: (name: string): string => `topics/${name}`,
  placementPrefix: 'placement/',
  // Zero-padded so the keys sort by id (ids are uint32: at most 10 digits).
  placement: (topicId: number): string => `placement/${String(topicId).padStart(10, '0')}`,
  brokerPrefix: 'brokers/',
  broker: (brokerId: string): string => `brokers/${brokerId}`,
  subscriptionPrefix: 'subscriptions/',
  subscription: (topic: string, name: string): string => `subscriptions/${topic}/${name}`,
} as const;
