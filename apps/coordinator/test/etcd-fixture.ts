/**
 * For the coordinator's etcd tests: one real etcd per test file (started
 * before its tests, stopped after them; testkit's `startEtcd`), and steps to
 * undo after each test, run latest first. Call `useEtcd()` at the top level
 * of a test file.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startEtcd } from '@braid/testkit';
import type { EtcdServer } from '@braid/testkit';

/** What `useEtcd` gives a test file. */
export interface EtcdFixture {
  /** The running etcd (from the file's `beforeAll` on). */
  readonly server: EtcdServer;
  /** Runs `step` after the current test, before the steps deferred earlier. */
  defer(step: () => Promise<void> | void): void;
}

/** See the file comment. */
export function useEtcd(): EtcdFixture {
  let server: EtcdServer | undefined;
  const steps: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    server = await startEtcd();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await step();
  });
  return {
    get server(): EtcdServer {
      if (!server) throw new Error('etcd is not running yet: use it in a test or a hook');
      return server;
    },
    defer(step) {
      steps.push(step);
    },
  };
}
