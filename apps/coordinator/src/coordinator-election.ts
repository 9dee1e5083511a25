/**
 * Leader election among coordinators that share one etcd prefix, on etcd3's
 * `Election` (the port of etcd's Go `concurrency.Election`): every
 * coordinator campaigns with its advertised address as the value, holding
 * an etcd lease of `--etcd-lease-ttl-s` that the client keeps alive; the
 * candidate whose key was created first leads, the others wait in the
 * campaign. A leader that dies stops renewing its lease, etcd deletes its
 * key when the lease runs out, and the next candidate is elected.
 *
 * Safety does not rest on anyone noticing anything: once elected, the
 * coordinator fences its store with its election key
 * (`EtcdMetadataStore.fence`), so a leader that was deposed without knowing
 * it (a long pause, cut off from etcd) has every write refused. Liveness
 * does: the leader gives up (`lost`) as soon as
 * - the campaign fails (etcd3 reports the lease lost),
 * - a check finds its election key gone or re-created,
 * - no check has reached etcd for a whole lease TTL (its lease has most
 *   likely run out, and a successor may lead already),
 * - the observer sees another coordinator lead, or
 * - a fenced commit is refused.
 * Losing is final: the app exits and a supervisor restarts it as a standby,
 * which is simpler to get right than handing every registry back.
 */
import type { Campaign, ElectionObserver } from 'etcd3';
import type { BraidError, Clock, Logger } from '@braid/core';
import { electionDefaults } from './defaults.js';
import type { EtcdMetadataStore } from './etcd-metadata-store.js';

/** Options of `CoordinatorElection.start`; defaults in `electionDefaults`. */
export interface CoordinatorElectionOptions {
  store: EtcdMetadataStore;
  /** This coordinator's advertised address (host:port): the campaign value, so others can name the leader. */
  address: string;
  /** TTL of the etcd lease behind the campaign (s). */
  leaseTtlSeconds: number;
  clock: Clock;
  logger: Logger;
  /** How often the leader checks its election key (ms). Default a third of the TTL. */
  checkIntervalMs?: number;
  /** Pause before observing the leader again after the observer failed (ms). Default 1000. */
  observeRetryMs?: number;
}

/** The coordinators' election; see the file comment. */
export class CoordinatorElection {
  /** Resolves once this coordinator leads and its store is fenced. */
  readonly elected: Promise<void>;
  /** Resolves with the reason once this coordinator cannot (keep) campaign(ing) or leading. */
  readonly lost: Promise<Error>;
  private resolveElected!: () => void;
  private resolveLost!: (reason: Error) => void;
  private campaign: Campaign | undefined;
  private observer: ElectionObserver | undefined;
  private leader: string | undefined;
  private leading = false;
  /** Whether the observer has shown this coordinator as the leader since it was elected. */
  private observedSelf = false;
  private readonly stopping = new AbortController();
  private readonly checkIntervalMs: number;

  private constructor(private readonly options: CoordinatorElectionOptions) {
    this.checkIntervalMs = options.checkIntervalMs ?? Math.max(100, Math.floor((options.leaseTtlSeconds * 1000) / 3));
    this.elected = new Promise((resolve) => { this.resolveElected = resolve; });
    this.lost = new Promise((resolve) => { this.resolveLost = resolve; });
  }

  /** Starts observing the leader and campaigning; see `elected` and `lost`. */
  static start(options: CoordinatorElectionOptions): CoordinatorElection {
    const election = new CoordinatorElection(options);
    election.observe();
    election.pollLeader();
    election.run();
    return election;
  }

  /**
   * While standing by, reads the leader every check interval as well: the
   * observer can miss the first leader when its key is written between the
   * observer's initial read and its watch, and a standby must always be able
   * to name the leader.
   */
  private pollLeader(): void {
    const { store, leaseTtlSeconds } = this.options;
    void (async () => {
      // Once leading, `checkLoop` watches the key instead.
      while ((await this.checkIntervalPassed()) && !this.leading) {
        try {
          const value = await store.election(electionDefaults.name, leaseTtlSeconds).leader();
          if (!this.isLeader && value !== this.leader) this.onLeader(value);
        } catch (error) {
          this.options.logger.debug({ err: error }, 'reading the coordinator leader failed');
        }
      }
    })();
  }

  /** Waits one check interval; false when the election stopped meanwhile. */
  private checkIntervalPassed(): Promise<boolean> {
    return this.options.clock.sleep(this.checkIntervalMs, this.stopping.signal).then(
      () => !this.stopping.signal.aborted,
      () => false,
    );
  }

  /** Whether this coordinator leads. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The leader's advertised address as last observed, if any. */
  leaderAddress(): string | undefined {
    return this.leading ? this.options.address : this.leader;
  }

  /**
   * Leaves the election: stops checking and observing and revokes the
   * lease, so that a standby is elected at once rather than after the TTL.
   */
  async resign(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort(new Error('resigned'));
    this.leading = false;
    await this.observer?.cancel();
    await this.campaign?.resign();
  }

  private lose(reason: Error): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort(reason);
    this.leading = false;
    this.resolveLost(reason);
    // The lease may still be alive (a check failed, the observer saw
    // another leader): revoke it so nobody waits for it to run out. Best
    // effort: the process is about to exit.
    void this.campaign?.resign().catch((error: unknown) => {
      this.options.logger.debug({ err: error }, 'revoking the election lease failed');
    });
    void this.observer?.cancel().catch((error: unknown) => {
      this.options.logger.debug({ err: error }, 'closing the election observer failed');
    });
  }

  private run(): void {
    const { store, address, leaseTtlSeconds, logger } = this.options;
    const campaign = store.election(electionDefaults.name, leaseTtlSeconds).campaign(address);
    this.campaign = campaign;
    campaign.on('error', (error) => {
      const role = this.leading ? 'no longer the leader' : 'cannot stand by';
      this.lose(new Error(`the campaign for the leadership failed (its etcd lease is lost): ${role}: ${error.message}`, { cause: error }));
    });
    campaign.on('elected', () => {
      this.onElected(campaign).catch((error: unknown) => {
        this.lose(new Error(`could not take the leadership: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      });
    });
    logger.info({ address, leaseTtlSeconds }, 'campaigning for coordinator leadership');
  }

  private async onElected(campaign: Campaign): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const { store, logger } = this.options;
    const key = await campaign.getCampaignKey();
    const revision = await store.createRevisionOf(key);
    // Gone already: the lease ran out between winning and looking.
    if (revision === undefined) throw new Error(`the election key ${key} vanished right after the election`);
    store.fence(key, revision, (error: BraidError) => { this.lose(error); });
    this.leading = true;
    logger.info({ electionKey: key, revision }, 'elected coordinator leader');
    this.resolveElected();
    void this.checkLoop(key, revision);
  }

  /** Confirms now and then that the election key is still ours; see the file comment. */
  private async checkLoop(key: string, revision: string): Promise<void> {
    const { clock, store, leaseTtlSeconds } = this.options;
    const ttlMs = leaseTtlSeconds * 1000;
    let confirmedAt = clock.now();
    while (await this.checkIntervalPassed()) {
      const askedAt = clock.now();
      try {
        const current = await store.createRevisionOf(key, this.checkIntervalMs);
        if (current !== revision) {
          this.lose(new Error(`the election key ${key} is ${current === undefined ? 'gone (the lease ran out or was revoked)' : `re-created at revision ${current}`}: no longer the leader`));
          return;
        }
        confirmedAt = askedAt;
      } catch (error) {
        if (clock.now() - confirmedAt >= ttlMs) {
          this.lose(new Error(`etcd has not been reachable for ${clock.now() - confirmedAt} ms, longer than the ${ttlMs} ms election lease: no longer the leader`, { cause: error }));
          return;
        }
        this.options.logger.warn({ err: error }, 'could not confirm the leadership with etcd; retrying');
      }
    }
  }

  private observe(): void {
    const { store, leaseTtlSeconds } = this.options;
    if (this.stopping.signal.aborted) return;
    store
      .election(electionDefaults.name, leaseTtlSeconds)
      .observe()
      .then((observer) => {
        if (this.stopping.signal.aborted) {
          void observer.cancel();
          return;
        }
        this.observer = observer;
        this.onLeader(observer.leader());
        observer.on('change', (value) => { this.onLeader(value); });
        observer.on('error', (error) => { this.observeAgain(error); });
      })
      .catch((error: unknown) => { this.observeAgain(error); });
  }

  private observeAgain(error: unknown): void {
    if (this.stopping.signal.aborted) return;
    this.options.logger.warn({ err: error }, 'observing the coordinator leader failed; observing again');
    this.observer = undefined;
    this.options.clock.sleep(this.options.observeRetryMs ?? electionDefaults.observeRetryMs, this.stopping.signal).then(
      () => { this.observe(); },
      () => undefined,
    );
  }

  private onLeader(value: string | undefined): void {
    if (value !== this.leader) this.options.logger.info({ leader: value ?? null }, 'coordinator leader observed');
    this.leader = value;
    if (!this.leading) return;
    if (value === this.options.address) {
      this.observedSelf = true;
    } else if (this.observedSelf) {
      // Our key was the first; another one is now: ours is gone.
      this.lose(new Error(`another coordinator (${value ?? 'none'}) leads now: no longer the leader`));
    }
  }
}
