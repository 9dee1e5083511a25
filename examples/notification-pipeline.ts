// The notification pipeline from the design, runnable: "new post" events
// keyed by user id fan out to three subscriptions of one topic.
//
// - push: calls a flaky push provider (20% of calls fail) that allows 100
//   calls/s, so the subscription carries a broker-enforced rate limit of
//   100/s across all its members, and a retry policy (5 attempts, growing
//   backoff with jitter) that parks what keeps failing in its dead-letter
//   topic `<topic>.push.dlq`.
// - search and analytics: index and count every event.
//
// One malformed event is published among the others. Push does not
// recognise it as poison (it does not throw `PoisonMessageError`), it just
// fails on it, every time, so the retry policy dead-letters it after its 5th
// attempt; meanwhile the later events of the same user wait (BLOCK_KEY), so
// per-user order holds.
//
// At the end it checks and prints: every event reached all three
// subscriptions; per-user order held in each; push never went over its rate
// limit; the malformed event sits in the push DLQ after 5 attempts with
// growing gaps between them. It exits with 1 if a check fails. CI runs it
// against a real broker (tools/examples.test.ts).
//
//   npm start                         # in another shell: coordinator + broker on localhost:7401
//   npm run example:notifications     # BRAID_BROKER=host:port for another broker
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Jitter, Producer, StartPosition, SubscriptionMode } from '@braid/client';
import type { SubscriptionSettings } from '@braid/client';
import { DeadLetter, Disposition } from '@braid/proto';

const brokers = process.env.BRAID_BROKER ?? 'localhost:7401';
const users = 200;
// At 100/s, 1,500 events (plus ~25% retries) keep push busy for ~20 s.
const events = 1_500;
/** A fresh topic per run, so that a rerun against the same broker starts clean. */
const topic = `new-posts-${randomUUID().slice(0, 8)}`;
const pushLimit = { recordsPerSecond: 100, burst: 10 };
const pushLeaseMs = 30_000;
const maxAttempts = 5;
/** The run gives up (and fails) after this long. */
const deadlineMs = 90_000;

interface NewPost {
  user: string;
  seq: number;
  postId: string;
}

// ---- the three subscriptions ----------------------------------------------

const common: SubscriptionSettings = {
  // A user's events go to one member, in order; different users in parallel.
  mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
  startPosition: StartPosition.START_POSITION_EARLIEST,
};

/** Per subscription: user -> sequence numbers in the order they were handled successfully. */
const handled = { push: new Map<string, number[]>(), search: new Map<string, number[]>(), analytics: new Map<string, number[]>() };
type Pipeline = keyof typeof handled;
const malformedSeen = { search: 0, analytics: 0 };
/** When each push handler call started (Unix ms), failures and retries included: the calls the provider sees. */
const pushCalls: number[] = [];
/** When the broker handed each of those deliveries out (Unix ms, broker clock): its lease deadline minus the lease. */
const pushHandOuts: number[] = [];
let pushFailures = 0;

function succeeded(pipeline: Pipeline, post: NewPost): void {
  const list = handled[pipeline].get(post.user) ?? [];
  list.push(post.seq);
  handled[pipeline].set(post.user, list);
}

function count(pipeline: Pipeline): number {
  let n = 0;
  for (const list of handled[pipeline].values()) n += list.length;
  return n;
}

function startPush(): { consumer: Consumer; run: Promise<void> } {
  const consumer = new Consumer({
    brokers,
    topic,
    subscription: 'push',
    createIfMissing: true,
    settings: {
      ...common,
      ackTimeoutMs: pushLeaseMs,
      // Enforced by the broker for all members of the subscription together.
      rateLimit: pushLimit,
      // Equal jitter: each retry waits between half and all of 200 ms x 3^n, so the gaps grow.
      retryPolicy: { maxAttempts, initialBackoffMs: 200, multiplier: 3, maxBackoffMs: 10_000, jitter: Jitter.JITTER_EQUAL },
    },
    // The same limit in this process: records the broker handed out while
    // this process was busy elsewhere (a GC pause, the other pipelines) wait
    // here instead of reaching the provider in a burst. It never lets more
    // through than the subscription's limit.
    rateLimit: pushLimit,
  });
  const run = consumer.run(
    (message) => {
      pushCalls.push(Date.now());
      // The SDK extends leases only after 2/3 of them, so this is still the lease of the hand-out.
      pushHandOuts.push(message.leaseDeadline.getTime() - pushLeaseMs);
      // The handler parses (a consumer `parse` would reject the malformed
      // event at once): a payload that does not parse throws like any other
      // failure and is retried until the policy gives up.
      const post = JSON.parse(message.value.toString()) as NewPost;
      // The provider fails 20% of calls, but a last attempt always goes
      // through: otherwise 1,500 events would lose one to the DLQ in one run
      // of three (0.2^5 per event), and this run checks that none is lost.
      if (message.attempt < maxAttempts && Math.random() < 0.2) {
        pushFailures += 1;
        throw new Error('push provider answered 503'); // nack: retried after the backoff
      }
      succeeded('push', post);
    },
    { concurrency: 16 },
  );
  return { consumer, run };
}

/** Search and analytics: nothing to do with a malformed event, so they acknowledge it. */
function startLenient(pipeline: 'search' | 'analytics'): { consumer: Consumer; run: Promise<void> } {
  const consumer = new Consumer({ brokers, topic, subscription: pipeline, createIfMissing: true, settings: common });
  const run = consumer.run(
    (message) => {
      let post: NewPost;
      try {
        post = JSON.parse(message.value.toString()) as NewPost;
      } catch {
        malformedSeen[pipeline] += 1;
        return;
      }
      succeeded(pipeline, post);
    },
    { concurrency: 16 },
  );
  return { consumer, run };
}

const admin = new Admin({ brokers });
await admin.createTopic(topic, { partitions: 8 });
const push = startPush();
const search = startLenient('search');
const analytics = startLenient('analytics');
// Connected: the subscriptions exist before anything is published.
await Promise.all([push.consumer.connect(), search.consumer.connect(), analytics.consumer.connect()]);

// ---- the publisher ---------------------------------------------------------

const started = Date.now();
const nextSeq = new Map<string, number>();
const records: { key: string; value: string }[] = [];
let malformedUser = '';
for (let i = 0; i < events; i++) {
  // A deterministic scatter of events over users.
  const user = `user-${(i * 7919) % users}`;
  const seq = nextSeq.get(user) ?? 0;
  nextSeq.set(user, seq + 1);
  records.push({ key: user, value: JSON.stringify({ user, seq, postId: `post-${i}` } satisfies NewPost) });
  if (i === events / 3) {
    // Truncated in transit: it can never be processed.
    malformedUser = user;
    records.push({ key: user, value: `{"user":"${user}","seq":` });
  }
}
const producer = new Producer({ brokers });
await producer.send(topic, records);
await producer.close();
console.log(`published ${events} "new post" events for ${users} users (+1 malformed, ${malformedUser}) to ${topic}`);

// ---- waiting for the pipelines ---------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, done: () => boolean | Promise<boolean>): Promise<boolean> {
  while (!(await done())) {
    if (Date.now() - started > deadlineMs) {
      console.log(`gave up waiting for ${what} after ${deadlineMs / 1000} s`);
      return false;
    }
    await sleep(100);
  }
  return true;
}

let reported = started;
await waitFor('the pipelines', () => {
  if (Date.now() - reported >= 5_000) {
    reported = Date.now();
    console.log(`  ${Math.round((reported - started) / 1000)} s: push ${count('push')}, search ${count('search')}, analytics ${count('analytics')} of ${events}`);
  }
  return count('push') >= events && count('search') >= events && count('analytics') >= events;
});
const elapsed = (Date.now() - started) / 1000;

// The dead-letter topic is an ordinary topic (created with its first dead
// letter): read it with a consumer; each value is a `braid.v1.DeadLetter`.
const deadLetterTopic = `${topic}.push.dlq`;
const letters: DeadLetter[] = [];
let inspector: { consumer: Consumer<DeadLetter>; run: Promise<void> } | undefined;
if (await waitFor(deadLetterTopic, async () => (await admin.listTopics()).some((t) => t.name === deadLetterTopic))) {
  const consumer = new Consumer({
    brokers,
    topic: deadLetterTopic,
    subscription: 'inspector',
    createIfMissing: true,
    settings: { startPosition: StartPosition.START_POSITION_EARLIEST },
    parse: (value) => DeadLetter.decode(value),
  });
  inspector = { consumer, run: consumer.run((message) => { letters.push(message.data); }) };
  await waitFor('the dead letter', () => letters.length >= 1);
}

const running = [push, search, analytics, ...(inspector ? [inspector] : [])];
await Promise.all(running.map(({ consumer }) => consumer.close()));
await Promise.all(running.map(({ run }) => run));
admin.close();

// ---- checks ----------------------------------------------------------------

let failures = 0;
function check(ok: boolean, what: string): void {
  if (!ok) failures += 1;
  console.log(`${ok ? 'check ok' : 'check FAILED'}: ${what}`);
}

const pipelines: Pipeline[] = ['push', 'search', 'analytics'];
check(
  pipelines.every((p) => count(p) === events),
  `every event reached all three subscriptions (${pipelines.map((p) => `${p} ${count(p)}`).join(', ')} of ${events}; ${pushFailures} failed push calls were retried)`,
);

/** subscription/user pairs whose successes were not exactly 0, 1, 2, ... */
const violations = pipelines.flatMap((p) =>
  [...nextSeq]
    .filter(([user, n]) => (handled[p].get(user) ?? []).join() !== Array.from({ length: n }, (_, i) => i).join())
    .map(([user]) => `${p}/${user}`),
);
check(
  violations.length === 0,
  `per-user order held in push, search and analytics (${violations.length} violations${violations.length > 0 ? `: ${violations.slice(0, 5).join(', ')}` : ''})`,
);

/** The most timestamps within any window of `windowMs` (sliding). */
function peak(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}
// A token bucket lets at most rate x 1 s + burst through in any second.
const allowed = pushLimit.recordsPerSecond + pushLimit.burst;
const calls = peak(pushCalls, 1_000);
const handOuts = peak(pushHandOuts, 1_000);
const span = ((pushCalls.at(-1) ?? 0) - (pushCalls[0] ?? 0)) / 1000;
check(
  calls <= allowed && handOuts <= allowed,
  `push stayed within ${pushLimit.recordsPerSecond}/s (burst ${pushLimit.burst}, so at most ${allowed} in any 1 s window): ` +
    `at most ${calls} handler starts and ${handOuts} broker hand-outs in any 1 s window; ${pushCalls.length} calls in ${span.toFixed(1)} s`,
);

const letter = letters[0];
const times = letter?.attempts.map((a) => a.timeMs) ?? [];
const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
check(
  letters.length === 1 &&
    letter !== undefined &&
    Buffer.from(letter.origin?.key ?? []).toString() === malformedUser &&
    letter.origin?.subscription === 'push' &&
    letter.attempts.length === maxAttempts &&
    letter.attempts.every((a, i) => a.attempt === i + 1 && a.disposition === Disposition.DISPOSITION_NACK) &&
    gaps.every((gap, i) => i === 0 || gap > (gaps[i - 1] ?? 0)),
  `the malformed event sits in ${deadLetterTopic} (${letters.length} dead letter${letters.length === 1 ? '' : 's'}) after ${letter?.attempts.length ?? 0} attempts ` +
    `(${letter?.attempts.at(-1)?.errorClass ?? '?'}: ${letter?.attempts.at(-1)?.reason ?? '?'}), gaps between attempts ${gaps.map((g) => `${g} ms`).join(', ')}`,
);
check(
  malformedSeen.search === 1 && malformedSeen.analytics === 1,
  `search and analytics each saw the malformed event once and skipped it (${malformedSeen.search}, ${malformedSeen.analytics})`,
);

console.log(failures === 0 ? `all checks passed in ${elapsed.toFixed(1)} s` : `${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
