/**
 * `bench timers`: the broker's retry timers (`RetryTimers` over a
 * `RetryStore`, apps/broker/src/consume/retry-timers.ts) on the system
 * clock, in this process, with a real `LogStore` in a temp dir.
 *
 * 1. Optionally puts `far` states due in about a day (never fired: they
 *    only sit in RocksDB, as 1,000,000 delayed records would).
 * 2. Resets the process's peak RSS (`/proc/self/clear_refs`), starts the
 *    timers, then puts `pending` states due `leadMs` to `leadMs + spreadMs`
 *    from the start of this step, in batches of 1,000 with 4 in flight,
 *    calling `scheduled()` for each after its put resolves (as the
 *    dispatcher does); states beyond the window are left to the refills.
 * 3. Waits until every pending state fired. `onDue` notes `Date.now() -
 *    dueMs` per state (the clock the timers use, so ms resolution); the
 *    fired states are removed from the store every 10 ms, as a dispatcher
 *    settling their redeliveries (acks arrive in batches) would.
 *
 * Reports timer lateness p50/p99/p999/max, fired states per second, the
 * event-loop delay, the timers' refills, and peak RSS during setup and
 * while timing (`VmHWM`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, systemClock } from '@braid/core';
import { LogStore } from '@braid/storage';
import type { RetryKey, RetryState } from '@braid/storage';
import { RetryTimers, retryTimersDefaults } from '../../apps/broker/src/consume/retry-timers.js';
import { formatRows, machineInfo, machineRow } from './report.js';
import type { MachineInfo } from './report.js';
import { grouped, mib, ms, quantile } from './stats.js';

/** Settings of one `bench timers`. */
export interface TimersBenchOptions {
  /** States that fire during the run. */
  pending: number;
  /** Their due times spread uniformly over this many ms. */
  spreadMs: number;
  /** Time from the start of the pending puts to the first due time, in ms. */
  leadMs: number;
  /** States due in about a day, put first; they never fire. */
  far: number;
  windowMs: number;
  windowMax: number;
}

/** What `bench timers` measured. */
export interface TimersReport {
  startedAt: string;
  machine: MachineInfo;
  options: TimersBenchOptions;
  /** Far states put per second. */
  farPutRate: number;
  /** Pending states put (and scheduled) per second. */
  pendingPutRate: number;
  /** Pending states whose due time had passed when their put resolved (their lateness includes the put). */
  dueBeforeScheduled: number;
  fired: number;
  /** Fired states per second, first to last firing. */
  firedPerSecond: number;
  /** States fired before their due time (expected 0). */
  early: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** CPU used while firing (user + system), in cores: 1 = one core busy. */
  firingCpuCores: number;
  /** Event-loop delay after the pending puts (while firing), p99 / max. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Refills of the window from RocksDB. */
  loads: number;
  /** Most states the timers held at once. */
  peakHeld: number;
  /** Peak RSS of this process up to the start of timing (setup: far puts). */
  setupPeakRssBytes: number | undefined;
  /** Peak RSS while timing (after a reset of VmHWM), or undefined if it could not be reset. */
  timingPeakRssBytes: number | undefined;
}

const BATCH = 1_000;
/** How often fired states are removed (settled) in one batch. */
const SETTLE_EVERY_MS = 10;
const IN_FLIGHT = 4;
const DAY_MS = 86_400_000;
const PARTITIONS = 8;
const SUBSCRIPTIONS = ['push', 'search'];

function peakRss(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    // Not Linux: the figure is unknown.
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0); false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    // Not Linux, or not allowed: the timing peak then includes setup.
    return false;
  }
}

function state(topicId: number, i: number, dueMs: number): RetryState {
  return {
    topicId,
    partition: i % PARTITIONS,
    subscription: SUBSCRIPTIONS[i % SUBSCRIPTIONS.length] ?? 'push',
    offset: i,
    attempts: [{ attempt: 1, timeMs: Date.now(), memberId: 'bench-member-1', disposition: 'nack', reason: 'HTTP 503 from downstream', errorClass: 'UpstreamError' }],
    dueMs,
    deadLettering: false,
  };
}

/** Puts `count` states made by `make` in batches, `IN_FLIGHT` at once; `after` runs once each batch is written. */
async function putAll(store: LogStore, count: number, make: (i: number) => RetryState, after: (batch: RetryState[]) => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + BATCH);
      const batch = Array.from({ length: next - from }, (_, k) => make(from + k));
      await store.retries().put(batch);
      after(batch);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** Runs the benchmark once (see the file comment). */
export async function benchTimers(options: TimersBenchOptions): Promise<TimersReport> {
  const startedAt = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), 'braid-bench-timers-'));
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
  try {
    let farPutRate = 0;
    if (options.far > 0) {
      const start = performance.now();
      const base = Date.now() + DAY_MS;
      await putAll(store, options.far, (i) => state(2, i, base + Math.floor(Math.random() * 3_600_000)), () => undefined);
      farPutRate = options.far / ((performance.now() - start) / 1000);
    }
    const setupPeakRssBytes = peakRss();
    const reset = resetPeakRss();

    const lateness = new Float64Array(options.pending);
    let fired = 0;
    let early = 0;
    let firstFireAt = 0;
    let lastFireAt = 0;
    let peakHeld = 0;
    const settling = new Set<Promise<void>>();
    let unsettled: RetryKey[] = [];
    const settle = (): void => {
      if (unsettled.length === 0) return;
      // Settled: the dispatcher removes the states once their redeliveries are acknowledged.
      const removal = store.retries().remove(unsettled).finally(() => settling.delete(removal));
      settling.add(removal);
      unsettled = [];
    };
    const settler = setInterval(settle, SETTLE_EVERY_MS);
    let allFired: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allFired = resolve;
    });
    const timers = new RetryTimers({
      store: store.retries(),
      clock: systemClock,
      logger: silentLogger,
      windowMs: options.windowMs,
      windowMax: options.windowMax,
      onDue: (states) => {
        const now = Date.now();
        if (fired === 0) firstFireAt = now;
        lastFireAt = now;
        peakHeld = Math.max(peakHeld, timers.stats().held + states.length);
        for (const s of states) {
          const late = now - s.dueMs;
          if (late < 0) early++;
          if (fired < lateness.length) lateness[fired] = late;
          fired++;
          unsettled.push(s);
        }
        if (fired >= options.pending) allFired();
      },
    });
    await timers.start();

    const putStart = Date.now();
    const base = putStart + options.leadMs;
    let dueBeforeScheduled = 0;
    await putAll(
      store,
      options.pending,
      (i) => state(1, i, base + Math.floor(Math.random() * options.spreadMs)),
      (batch) => {
        const now = Date.now();
        for (const s of batch) {
          if (s.dueMs <= now) dueBeforeScheduled++;
          timers.scheduled(s);
        }
      },
    );
    const pendingPutRate = options.pending / Math.max(0.001, (Date.now() - putStart) / 1000);
    // From here on the process only fires (and settles) what it put.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const cpuBefore = process.cpuUsage();
    const firingStart = performance.now();

    const deadline = base + options.spreadMs + 60_000;
    while (fired < options.pending && Date.now() < deadline) await Promise.race([done, sleep(1_000)]);
    loop.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const firingCpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - firingStart);
    const stats = timers.stats();
    timers.close();
    clearInterval(settler);
    settle();
    await Promise.all(settling);
    const timingPeakRssBytes = reset ? peakRss() : undefined;

    const sorted = lateness.subarray(0, Math.min(fired, lateness.length)).sort();
    const spanS = (lastFireAt - firstFireAt) / 1000;
    return {
      startedAt,
      machine: machineInfo(),
      options,
      farPutRate,
      pendingPutRate,
      dueBeforeScheduled,
      fired,
      firedPerSecond: spanS > 0 ? fired / spanS : Number.NaN,
      early,
      firingCpuCores,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      p999Ms: quantile(sorted, 0.999),
      maxMs: sorted.at(-1) ?? Number.NaN,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      loads: stats.loads,
      peakHeld,
      setupPeakRssBytes,
      timingPeakRssBytes,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as lines a human can quote. */
export function formatTimersReport(report: TimersReport): string {
  const o = report.options;
  const rows: [string, string][] = [
    machineRow(report.machine),
    [
      'workload',
      `${grouped(o.pending)} pending retries due over ${grouped(o.spreadMs)} ms (first ${grouped(o.leadMs)} ms after the puts begin)` +
        (o.far > 0 ? `, plus ${grouped(o.far)} due in a day` : '') +
        `; window ${grouped(o.windowMs)} ms / ${grouped(o.windowMax)} states; fired states removed as settled`,
    ],
  ];
  if (o.far > 0) rows.push(['far puts', `${grouped(report.farPutRate)} states/s`]);
  rows.push(['pending puts', `${grouped(report.pendingPutRate)} states/s (put + scheduled()); ${grouped(report.dueBeforeScheduled)} were due before their put resolved`]);
  if (report.dueBeforeScheduled > 0) rows.push(['warning', 'some states fell due while still being put: their lateness includes the put; raise --lead-ms']);
  rows.push(['lateness', `p50 ${ms(report.p50Ms)}, p99 ${ms(report.p99Ms)}, p999 ${ms(report.p999Ms)}, max ${ms(report.maxMs)} (fire time - due time, Date.now(), 1 ms resolution)`]);
  rows.push(['fired', `${grouped(report.fired)} of ${grouped(o.pending)}, ${grouped(report.firedPerSecond)} states/s first to last, ${grouped(report.early)} early`]);
  rows.push(['event loop', `delay p99 ${ms(report.loopDelayP99Ms)}, max ${ms(report.loopDelayMaxMs)}; CPU ${report.firingCpuCores.toFixed(2)} cores (after the pending puts)`]);
  rows.push(['timers', `${grouped(report.loads)} refills from RocksDB, at most ${grouped(report.peakHeld)} states held`]);
  rows.push(['RSS', `peak ${mib(report.setupPeakRssBytes)} during setup, peak ${report.timingPeakRssBytes === undefined ? 'n/a' : mib(report.timingPeakRssBytes)} while timing (VmHWM, reset in between)`]);
  return formatRows(`braid bench timers, ${report.startedAt}`, rows);
}

/** The defaults the command shows. */
export const timersBenchDefaults = {
  pending: 100_000,
  spreadMs: 20_000,
  // Long enough for the puts (100,000 take 2-6 s here, more on a busy machine) to end before the first is due.
  leadMs: 10_000,
  far: 0,
  windowMs: retryTimersDefaults.windowMs,
  windowMax: retryTimersDefaults.windowMax,
} as const;
