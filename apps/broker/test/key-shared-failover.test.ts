// KEY_SHARED with three members, each an SDK consumer in its own process;
// one is killed with SIGKILL mid-stream while its keys still have records
// waiting. Its keys move to the survivors, per-key order holds across the
// move, and nothing is lost.
//
// Owners follow the contract's rule (rendezvous hashing of the key over the
// member ids, proto/PARTITIONING.md): with members a, b, c each key has one
// owner; once c is gone, c's keys go to their owner among a and b, and the
// keys of a and b stay where they are.
//
// "Per-key order holds" means, for every key:
// - each member processes the key's records in strictly increasing sequence;
// - a key that never moved is processed by its one owner, every record
//   exactly once, in publish order;
// - a key of the killed member was processed by it as a prefix 0..last
//   (in order, no gaps; possibly empty), then by exactly one survivor from
//   some s0 <= last+1 through the key's final record, in order, with no
//   gaps. Records s0..last (processed by the killed member, their acks lost
//   with it) are processed again by the survivor with attempt >= 2:
//   at-least-once, never reordered, never skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyItem, rendezvousOwner } from '@braid/partitioning';
import { Durability, StartPosition, SubscriptionMode } from '@braid/proto';
import type { DescribeSubscriptionResponse } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { clients, createSubscription, createTopic, describeSubscription, publish } from './grpc-helpers.js';
import { MemberProcess } from './member-process.js';
import type { MemberLine } from './member-process.js';

const keys = 300;
const perKey = 100;
const total = keys * perKey;
/** Rounds (one record per key each) published before the kill; the rest follow it. */
const roundsBeforeKill = 50;
/** The victim is killed once it has processed this many records. */
const killAfter = 1_000;

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;
const members: MemberProcess[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster();
  api = clients(cluster.broker.address);
}, 120_000);

afterAll(async () => {
  await Promise.all(members.map((m) => m.kill9()));
  api.close();
  await cluster.destroy();
});

const keyName = (k: number): string => `key-${k}`;

/** Publishes rounds [from, to): round r carries sequence r of every key, in one batch. */
async function publishRounds(topic: string, from: number, to: number): Promise<void> {
  for (let round = from; round < to; round++) {
    const records = Array.from({ length: keys }, (_, k) => ({ key: Buffer.from(keyName(k)), value: Buffer.from(String(round)), headers: {} }));
    await publish(api.producer, { topic, records });
  }
}

const describeKs = (): Promise<DescribeSubscriptionResponse> => describeSubscription(api.admin, 'failover', 'ks');

/** Sequences per key, in the order one member processed them. */
function byKey(lines: readonly MemberLine[]): Map<string, MemberLine[]> {
  const out = new Map<string, MemberLine[]>();
  for (const line of lines) {
    const list = out.get(line.key) ?? [];
    list.push(line);
    out.set(line.key, list);
  }
  return out;
}

/** Waits (generously) until `condition` holds; fails with `diagnose()`. */
async function until(condition: () => boolean | Promise<boolean>, diagnose: () => Promise<string>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(await diagnose());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

describe('KEY_SHARED with a member killed mid-stream', () => {
  it('moves its keys to the survivors, keeps per-key order and loses nothing', async () => {
    await createTopic(api.admin, 'failover', { partitions: 4, durability: Durability.DURABILITY_WRITE });
    await createSubscription(api.admin, 'failover', 'ks', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_EARLIEST,
      // Short, so the victim's leases would run out soon even if the broker
      // did not notice its stream end.
      ackTimeoutMs: 5_000,
    });
    const broker = cluster.broker.address;
    const survivorA = new MemberProcess('member-a', { broker, topic: 'failover', subscription: 'ks' });
    const survivorB = new MemberProcess('member-b', { broker, topic: 'failover', subscription: 'ks' });
    // Slow (2 ms per record), so it always has prefetched records in hand when killed.
    const victim = new MemberProcess('member-c', { broker, topic: 'failover', subscription: 'ks', delayMs: 2 });
    members.push(survivorA, survivorB, victim);
    await Promise.all(members.map((m) => m.ready));
    await expect
      .poll(async () => (await describeKs()).members.map((m) => m.memberId).sort(), { timeout: 30_000 })
      .toEqual(['member-a', 'member-b', 'member-c']);

    const owner = (key: string, among: string[]): string | undefined => rendezvousOwner(keyItem(Buffer.from(key)), among);
    const before = ['member-a', 'member-b', 'member-c'];
    const after = ['member-a', 'member-b'];
    const victimKeys = [...Array(keys).keys()].map(keyName).filter((key) => owner(key, before) === 'member-c');
    expect(victimKeys.length).toBeGreaterThan(0);
    const diagnose = async (): Promise<string> =>
      `processed: ${JSON.stringify(members.map((m) => [m.memberId, m.lines.length]))}; subscription: ${JSON.stringify(await describeKs())}; ` +
      `stderr: ${members.map((m) => m.errors).join('\n')}; broker warnings and errors: ` +
      cluster.broker.logs.split('\n').filter((line) => /"level":(40|50|60)/.test(line)).slice(-20).join('\n');

    await publishRounds('failover', 0, roundsBeforeKill);
    await until(() => victim.lines.length >= killAfter, diagnose);
    await victim.kill9();
    const victimLines = [...victim.lines];
    // Mid-stream: records of its keys were still waiting.
    expect(victimLines.length).toBeLessThan(victimKeys.length * roundsBeforeKill);
    await publishRounds('failover', roundsBeforeKill, perKey);

    // Every record gets acknowledged (by the survivors).
    const committed = async (): Promise<number> => (await describeKs()).partitions.reduce((n, p) => n + p.committedOffset, 0);
    await until(async () => (await committed()) === total, diagnose, 120_000);
    const described = await describeKs();
    for (const p of described.partitions) expect(p).toMatchObject({ committedOffset: p.highWatermark, lag: 0, unacked: 0 });
    expect(described.members.map((m) => m.memberId).sort()).toEqual(['member-a', 'member-b']);
    expect(await survivorA.stop()).toEqual({ code: 0, signal: null });
    expect(await survivorB.stop()).toEqual({ code: 0, signal: null });

    // Nothing lost: the members together processed every published record.
    const all = [...victimLines, ...survivorA.lines, ...survivorB.lines];
    expect(new Set(all.map((l) => `${l.partition}:${l.offset}`)).size).toBe(total);

    const processed = new Map([victim, survivorA, survivorB].map((m) => [m.memberId, byKey(m === victim ? victimLines : m.lines)]));
    // Every member processed only keys it owns: the victim by the rule over
    // three members, the survivors by the rule over two (their own keys plus
    // the victim's).
    for (const [memberId, lines] of processed) {
      for (const key of lines.keys()) expect(owner(key, memberId === 'member-c' ? before : after), `${memberId} ${key}`).toBe(memberId);
    }
    let reprocessed = 0;
    for (let k = 0; k < keys; k++) {
      const key = keyName(k);
      const survivor = owner(key, after) ?? '';
      const holders = [...processed].filter(([id, lines]) => id !== 'member-c' && lines.has(key)).map(([id]) => id);
      // One survivor per key, the one the rule names: a key is never split.
      expect(holders, key).toEqual([survivor]);
      const survivorLines = processed.get(survivor)?.get(key) ?? [];
      const survivorSeqs = survivorLines.map((l) => Number(l.value));
      if (owner(key, before) !== 'member-c') {
        // Never moved: its owner processed every record once, in order.
        expect(survivorSeqs, key).toEqual(range(0, perKey));
        expect(survivorLines.every((l) => l.attempt === 1), key).toBe(true);
        continue;
      }
      // Moved: the victim processed a prefix in order (maybe an empty one)...
      const victimSeqs = (processed.get('member-c')?.get(key) ?? []).map((l) => Number(l.value));
      const last = victimSeqs.length === 0 ? -1 : (victimSeqs[victimSeqs.length - 1] ?? -1);
      expect(victimSeqs, key).toEqual(range(0, last + 1));
      // ...and the survivor took over from the first record the victim had
      // not acknowledged, through the end, in order, with no gaps.
      const first = survivorSeqs[0] ?? perKey;
      expect(first, key).toBeLessThanOrEqual(last + 1);
      expect(survivorSeqs, key).toEqual(range(first, perKey));
      // What both processed was delivered again after the victim's attempt.
      for (const line of survivorLines) if (Number(line.value) <= last) expect(line.attempt, key).toBeGreaterThanOrEqual(2);
      reprocessed += Math.max(0, last + 1 - first);
    }
    // The victim's keys did move: survivors processed keys they had not owned.
    const takenOver = victimKeys.filter((key) => (processed.get(owner(key, after) ?? '')?.get(key)?.length ?? 0) > 0);
    expect(takenOver).toEqual(victimKeys);
    // Records the victim held unsettled (prefetched or unacknowledged) were
    // delivered again to a survivor; only the victim's keys saw attempt >= 2.
    const redelivered = [...survivorA.lines, ...survivorB.lines].filter((l) => l.attempt >= 2);
    expect(redelivered.length).toBeGreaterThan(0);
    for (const line of redelivered) expect(victimKeys.includes(line.key), line.key).toBe(true);
    expect(reprocessed).toBeLessThanOrEqual(redelivered.length);
  }, 300_000);
});
