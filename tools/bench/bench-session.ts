/**
 * The life of one benchmark against a cluster: an `Admin` and a `Producer`
 * on its broker, Ctrl-C stopping the cluster instead of leaving processes
 * behind, and everything closed (producer flushed, cluster stopped) however
 * the measurement ends.
 */
import { Admin, Producer } from '@braid/client';
import type { ProducerOptions } from '@braid/client';
import type { BenchCluster } from './cluster.js';

/** What a benchmark gets to work with. */
export interface BenchSession {
  admin: Admin;
  producer: Producer;
}

/** Runs `measure` with an Admin and a Producer on `cluster`, then tears everything down. */
export async function withBenchSession<T>(
  cluster: BenchCluster,
  producerOptions: Omit<ProducerOptions, 'brokers'>,
  measure: (session: BenchSession) => Promise<T>,
): Promise<T> {
  const stopOnSignal = (): void => {
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  const admin = new Admin({ brokers: cluster.brokerAddress });
  const producer = new Producer({ brokers: cluster.brokerAddress, ...producerOptions });
  try {
    return await measure({ admin, producer });
  } finally {
    await producer.close({ timeoutMs: 10_000 });
    admin.close();
    await cluster.stop();
    process.off('SIGINT', stopOnSignal);
  }
}
