/**
 * One local cluster (coordinator + broker, real processes) per test file,
 * with gRPC clients of the broker: started before the file's tests, removed
 * after them. `restartBroker` restarts it on the same port and data and
 * opens fresh clients, so no call waits out a channel's reconnect backoff.
 * Call `useLocalCluster()` at the top level of a test file.
 */
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll } from 'vitest';
import { ConsumerServiceClient } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster, LocalClusterOptions } from '@braid/testkit';
import { channelOptions, clients } from './grpc-helpers.js';

/** What `useLocalCluster` gives a test file (valid from its `beforeAll` on). */
export interface ClusterFixture {
  readonly cluster: LocalCluster;
  /** Admin and producer clients of the broker. */
  readonly api: ReturnType<typeof clients>;
  /** The broker's ConsumerService. */
  readonly consumers: ConsumerServiceClient;
  /**
   * Restarts the broker (stopping it gracefully if it runs, or with
   * `kill9` killing it) and opens fresh clients; `env` replaces its
   * environment for this and later starts.
   */
  restartBroker(options?: { kill9?: boolean; env?: Record<string, string> }): Promise<void>;
}

/** See the file comment. */
export function useLocalCluster(options: LocalClusterOptions = {}): ClusterFixture {
  let state: { cluster: LocalCluster; api: ReturnType<typeof clients>; consumers: ConsumerServiceClient } | undefined;
  const started = (): NonNullable<typeof state> => {
    if (!state) throw new Error('the cluster is not started yet: use it in a test or a hook');
    return state;
  };
  const connect = (cluster: LocalCluster): void => {
    state = {
      cluster,
      api: clients(cluster.broker.address),
      consumers: new ConsumerServiceClient(cluster.broker.address, credentials.createInsecure(), channelOptions),
    };
  };
  const disconnect = (): void => {
    state?.consumers.close();
    state?.api.close();
  };
  beforeAll(async () => {
    connect(await startLocalCluster(options));
  }, 120_000);
  afterAll(async () => {
    disconnect();
    await state?.cluster.destroy();
  });
  return {
    get cluster() {
      return started().cluster;
    },
    get api() {
      return started().api;
    },
    get consumers() {
      return started().consumers;
    },
    async restartBroker(restart = {}) {
      const { cluster } = started();
      disconnect();
      if (restart.kill9) await cluster.broker.kill9();
      await cluster.restartBroker(restart.env);
      connect(cluster);
    },
  };
}
