/**
 * Brokers and their leases. A broker registers (id + address) and gets a
 * lease that it renews by heartbeat; a lease not renewed within its TTL
 * expires, which marks the broker down (and, in the metadata, its
 * partitions unavailable; placement stays). By default leases live in
 * memory only: a restarted coordinator knows every broker it ever
 * registered (their registration is stored, so describe still lists them)
 * but none as live until it registers again. With `persistLeases` (the etcd
 * store, where a standby coordinator takes over from a leader) the lease id
 * is stored with the registration and removed on expiry, and a new leader
 * restores every stored lease with one full TTL from its takeover: brokers
 * keep their leases (and their partitions stay available) across a
 * failover as long as their heartbeats reach the new leader within a TTL.
 * Renewals are not stored (that would be a write per heartbeat), so a
 * broker that died just before the failover is noticed up to one TTL
 * later than it would have been. A heartbeat with an unknown or expired
 * lease gets NOT_FOUND, which tells the broker to register again.
 *
 * Every registration starts a new leader epoch for the broker's
 * partitions: the broker's `term`, one above every term issued before (the
 * largest stored term + 1; registrations are never deleted, so terms never
 * repeat). The term is stored with the registration, so it survives
 * coordinator restarts and failovers. A broker process that lost its lease
 * while another process registered under its id (a paused or partitioned
 * "zombie") holds an older term, and brokers refuse to lead with a term
 * below the one in the metadata: see `leader_epoch` in coordinator.proto.
 *
 * Expiry is checked by a loop on the injected `Clock`, so tests drive it
 * with a `FakeClock` instead of sleeping.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { clusterDefaults, leaseCheckIntervalMs } from './defaults.js';
import { isHostPort } from './host-port.js';
import type { MetadataChanges } from './metadata-changes.js';
import { metadataKeys } from './metadata-keys.js';
import { parseJson, putJson } from './metadata-store.js';
import type { MetadataStore, StoreOp } from './metadata-store.js';
import type { LiveBrokers } from './topic-registry.js';

/** A broker as the coordinator knows it. */
export interface BrokerState {
  brokerId: string;
  /** host:port clients and brokers reach it at. */
  address: string;
  /** Time of its latest registration (Unix ms). */
  registeredAtMs: number;
  /** Whether its lease is live (flips to false when the expiry check finds it lapsed). */
  live: boolean;
  /** Current lease id; undefined when not live. */
  leaseId: string | undefined;
  /** When the lease ends unless renewed (Unix ms); 0 if it never had one since the coordinator started. */
  leaseExpiresAtMs: number;
  /** The leader epoch of its latest registration (see the file comment). */
  term: number;
}

/** What `RegisterBroker` returns. */
export interface Lease {
  leaseId: string;
  leaseTtlMs: number;
  /** The broker's term: the leader epoch of its partitions under this lease. */
  leaderEpoch: number;
}

/** Options of `BrokerRegistry.load`. */
export interface BrokerRegistryOptions {
  store: MetadataStore;
  changes: MetadataChanges;
  clock: Clock;
  logger: Logger;
  /** Lease length (ms). */
  leaseTtlMs: number;
  /** How often expiry is checked (ms). Default `leaseCheckIntervalMs(leaseTtlMs)`. */
  checkIntervalMs?: number;
  /** Makes lease ids. Default `randomUUID`. */
  newLeaseId?: () => string;
  /**
   * Store lease ids with registrations and restore them on load with a
   * fresh TTL (see the file comment). Default false: leases in memory only.
   */
  persistLeases?: boolean;
}

const storedBrokerSchema = z.object({
  brokerId: z.string().min(1),
  address: z.string().min(1),
  registeredAtMs: z.number().int(),
  /** The live lease, with `persistLeases`; absent once it expired. */
  leaseId: z.string().min(1).optional(),
  /** The term of its latest registration; absent in data written before terms (counts as 1, the first leader epoch). */
  term: z.number().int().positive().optional(),
});
type StoredBroker = z.infer<typeof storedBrokerSchema>;

/** Broker ids follow the topic naming rules, so they are safe in keys, logs and URLs. */
const brokerIdPattern = /^[A-Za-z0-9._-]{1,249}$/;

function validateRegistration(brokerId: string, address: string): void {
  if (!brokerIdPattern.test(brokerId)) {
    throw new InvalidArgumentError(
      `broker_id ${JSON.stringify(brokerId.slice(0, 260))} is invalid: use 1-249 characters of A-Z, a-z, 0-9, ".", "_" and "-"`,
      { metadata: { field: 'broker_id' } },
    );
  }
  if (!isHostPort(address)) {
    throw new InvalidArgumentError(
      `address ${JSON.stringify(address.slice(0, 260))} is invalid: expected host:port with a port in 1-65535`,
      { metadata: { field: 'address' } },
    );
  }
}

function isLeaseLive(broker: BrokerState, now: number): boolean {
  return broker.live && now < broker.leaseExpiresAtMs;
}

/** The brokers of the cluster; see the file comment. */
export class BrokerRegistry implements LiveBrokers {
  private readonly brokers = new Map<string, BrokerState>();
  private readonly stopping = new AbortController();
  private expiryLoop: Promise<void> | undefined;
  private readonly newLeaseId: () => string;
  private readonly checkIntervalMs: number;

  private constructor(private readonly options: BrokerRegistryOptions) {
    this.newLeaseId = options.newLeaseId ?? randomUUID;
    this.checkIntervalMs = options.checkIntervalMs ?? leaseCheckIntervalMs(options.leaseTtlMs);
  }

  /**
   * Loads the stored registrations. Every broker starts not live, except,
   * with `persistLeases`, those with a stored lease: they are live for one
   * TTL from now.
   */
  static async load(options: BrokerRegistryOptions): Promise<BrokerRegistry> {
    const registry = new BrokerRegistry(options);
    const now = options.clock.now();
    for (const { key, value } of await options.store.list(metadataKeys.brokerPrefix)) {
      const result = storedBrokerSchema.safeParse(parseJson(value));
      if (!result.success) throw new Error(`metadata store holds a corrupt ${key}: ${result.error.message}`);
      const { leaseId, term = clusterDefaults.firstLeaderEpoch, ...stored } = result.data;
      if (options.persistLeases === true && leaseId !== undefined) {
        registry.brokers.set(stored.brokerId, { ...stored, term, live: true, leaseId, leaseExpiresAtMs: now + options.leaseTtlMs });
        options.logger.info({ brokerId: stored.brokerId, address: stored.address, graceMs: options.leaseTtlMs }, 'broker lease restored from the store');
      } else {
        registry.brokers.set(stored.brokerId, { ...stored, term, live: false, leaseId: undefined, leaseExpiresAtMs: 0 });
      }
    }
    return registry;
  }

  /** Lease length (ms). */
  get leaseTtlMs(): number {
    return this.options.leaseTtlMs;
  }

  /** Starts the expiry check loop. */
  start(): void {
    this.expiryLoop ??= this.runExpiryLoop();
  }

  /** Stops the expiry check loop and waits for it. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('broker registry stopped'));
    await this.expiryLoop;
  }

  /**
   * Registers `brokerId` at `address` with a fresh lease (an earlier lease
   * of the same id stops working). A broker that is already live may
   * register again from the same address (it restarted before its lease
   * ran out); from another address it gets ALREADY_EXISTS until its lease
   * lapses, so two processes configured with one id cannot both lead its
   * partitions. A broker that is not live may register from anywhere; the
   * new address replaces the old one.
   */
  async register(brokerId: string, address: string): Promise<Lease> {
    validateRegistration(brokerId, address);
    const { changes, clock, leaseTtlMs, logger } = this.options;
    return await changes.run(() => {
      const now = clock.now();
      const existing = this.brokers.get(brokerId);
      if (existing && isLeaseLive(existing, now) && existing.address !== address) {
        const remainingMs = existing.leaseExpiresAtMs - now;
        throw new AlreadyExistsError(
          `broker "${brokerId}" is live at ${existing.address}; it cannot register from ${address} until that lease expires (in ${remainingMs} ms)`,
          { retryAfterMs: remainingMs, metadata: { brokerId, address: existing.address } },
        );
      }
      const leaseId = this.newLeaseId();
      const term = this.nextTerm();
      const broker: BrokerState = { brokerId, address, registeredAtMs: now, live: true, leaseId, leaseExpiresAtMs: now + leaseTtlMs, term };
      const stored: StoredBroker = { brokerId, address, registeredAtMs: now, term, ...(this.options.persistLeases === true ? { leaseId } : {}) };
      return {
        ops: [putJson(metadataKeys.broker(brokerId), stored)],
        apply: () => {
          this.brokers.set(brokerId, broker);
          logger.info({ brokerId, address, previousAddress: existing?.address, leaseTtlMs, leaderEpoch: term }, 'broker registered');
        },
        result: { leaseId, leaseTtlMs, leaderEpoch: term },
      };
    });
  }

  /**
   * Renews the lease of `brokerId`. NOT_FOUND when the broker or lease is
   * unknown, or the lease has expired (even if the expiry check has not
   * noticed yet): the broker must register again.
   */
  heartbeat(brokerId: string, leaseId: string): Lease {
    const now = this.options.clock.now();
    const broker = this.brokers.get(brokerId);
    if (!broker || broker.leaseId !== leaseId || !isLeaseLive(broker, now)) {
      throw new NotFoundError(`lease ${JSON.stringify(leaseId)} of broker "${brokerId}" is unknown or expired; register again`, {
        metadata: { brokerId },
      });
    }
    broker.leaseExpiresAtMs = now + this.options.leaseTtlMs;
    return { leaseId, leaseTtlMs: this.options.leaseTtlMs, leaderEpoch: broker.term };
  }

  /** One above every term issued so far (called inside a change, so terms are issued one at a time). */
  private nextTerm(): number {
    let highest = 0;
    for (const broker of this.brokers.values()) highest = Math.max(highest, broker.term);
    return highest + 1;
  }

  /** Every registered broker, ordered by id. */
  list(): BrokerState[] {
    return [...this.brokers.values()].sort((a, b) => (a.brokerId < b.brokerId ? -1 : a.brokerId > b.brokerId ? 1 : 0));
  }

  /** Broker `brokerId`, or undefined. */
  get(brokerId: string): BrokerState | undefined {
    return this.brokers.get(brokerId);
  }

  /** Ids of brokers whose lease is live now. */
  liveBrokerIds(): string[] {
    const now = this.options.clock.now();
    return this.list()
      .filter((broker) => isLeaseLive(broker, now))
      .map((broker) => broker.brokerId);
  }

  /** Marks every broker whose lease has run out as not live (one metadata change for all of them). */
  async expireDue(): Promise<void> {
    const { changes, clock, logger } = this.options;
    const due = (): BrokerState[] => {
      const now = clock.now();
      return [...this.brokers.values()].filter((broker) => broker.live && now >= broker.leaseExpiresAtMs);
    };
    if (due().length === 0) return;
    await changes.run(() => {
      // Checked again: a heartbeat or registration may have come in while
      // this change waited for its turn.
      const expired = due();
      return {
        ...this.endLeases(expired, (broker) => {
          logger.warn({ brokerId: broker.brokerId, address: broker.address, leaseExpiresAtMs: broker.leaseExpiresAtMs }, 'broker lease expired; its partitions are unavailable');
        }),
        result: undefined,
        noop: expired.length === 0,
      };
    });
  }

  /**
   * Ends the lease of `brokerId` now (a broker stopping gracefully): its
   * partitions become unavailable at once. NOT_FOUND like `heartbeat` when
   * the lease is unknown or over.
   */
  async deregister(brokerId: string, leaseId: string): Promise<void> {
    const { changes, logger } = this.options;
    this.heartbeat(brokerId, leaseId);
    await changes.run(() => {
      // Checked again inside the change: the lease may have ended meanwhile.
      const broker = this.brokers.get(brokerId);
      const live = broker !== undefined && broker.leaseId === leaseId && isLeaseLive(broker, this.options.clock.now()) ? [broker] : [];
      return {
        ...this.endLeases(live, (ended) => {
          logger.info({ brokerId: ended.brokerId, address: ended.address }, 'broker deregistered; its partitions are unavailable');
        }),
        result: undefined,
        noop: live.length === 0,
      };
    });
  }

  /** The store writes and in-memory update that end the leases of `brokers`. */
  private endLeases(brokers: BrokerState[], log: (broker: BrokerState) => void): { ops: StoreOp[]; apply: () => void } {
    return {
      // A stored lease is removed, so that a later leader does not revive it.
      ops:
        this.options.persistLeases === true
          ? brokers.map((broker) =>
              putJson(metadataKeys.broker(broker.brokerId), {
                brokerId: broker.brokerId,
                address: broker.address,
                registeredAtMs: broker.registeredAtMs,
                term: broker.term,
              } satisfies StoredBroker),
            )
          : [],
      apply: () => {
        for (const broker of brokers) {
          broker.live = false;
          broker.leaseId = undefined;
          log(broker);
        }
      },
    };
  }

  private async runExpiryLoop(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      const woke = await this.options.clock.sleep(this.checkIntervalMs, signal).then(
        () => true,
        () => false,
      );
      if (!woke) return;
      // A failed check (the store refused the version bump) is retried on
      // the next tick; the broker stays live until then.
      await this.expireDue().catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'lease expiry check failed');
      });
    }
  }
}
