/**
 * `ConsumerService.Subscribe`: one member's session with this broker. The
 * first message must be `open`; then credit, acks, extends and nacks arrive
 * in any order and are applied in arrival order. Protocol violations end the
 * stream with a precise status (FAILED_PRECONDITION for anything before
 * `open` or a second `open`, INVALID_ARGUMENT for bad values, NOT_FOUND for
 * an unknown topic or subscription); a settle of a record the member does
 * not hold is answered with a `StreamError` and the stream stays open.
 * A stream that breaks (the member crashed or lost its connection) rather
 * than ends counts as a failed attempt for the records its member held.
 */
import { randomBytes } from 'node:crypto';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { FailedPreconditionError, InvalidArgumentError, assertValidName } from '@braid/core';
import { ConsumerServiceService } from '@braid/proto';
import type { NackRequest, OpenRequest, SubscribeRequest, Subscription } from '@braid/proto';
import { bidi } from '@braid/server';
import type { ServiceRegistration } from '@braid/server';
import { withEncodedSubscribeResponses } from './consume/delivery-encoding.js';
import type { SubscribeOutput } from './consume/delivery-encoding.js';
import type { DispatcherRegistry } from './consume/dispatcher-registry.js';
import { MemberSession } from './consume/member-session.js';
import type { SubscriptionDispatcher } from './consume/subscription-dispatcher.js';
import type { TopicView } from './metadata-cache.js';

/** Finds (or, when asked, creates) a subscription; NOT_FOUND otherwise. */
export type SubscriptionResolver = (open: OpenRequest) => Promise<{ topic: TopicView; subscription: Subscription }>;

const memberIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer (got ${value})`, { metadata: { field: name } });
  }
}

/** Checks a nack's numbers (`field`: where it sits in the request, for the error). */
function assertNack(field: string, nack: NackRequest): void {
  assertCount(`${field}.offset`, nack.offset);
  if (nack.delayMs !== undefined) assertCount(`${field}.delay_ms`, nack.delayMs);
}

async function subscribe(
  call: ServerDuplexStream<SubscribeRequest, SubscribeOutput>,
  registry: DispatcherRegistry,
  resolve: SubscriptionResolver,
): Promise<void> {
  let session: MemberSession | undefined;
  let dispatcher: SubscriptionDispatcher | undefined;

  const handle = async (message: SubscribeRequest): Promise<void> => {
    const kind = message.kind;
    if (kind === undefined) throw new InvalidArgumentError('a SubscribeRequest must carry one of open, credit, ack, nack, reject or extend');
    if (kind.$case === 'open') {
      if (session) throw new FailedPreconditionError('open was already sent on this stream');
      const open = kind.value;
      assertValidName('subscription', open.subscription);
      const memberId = open.memberId || `member-${randomBytes(6).toString('hex')}`;
      if (!memberIdPattern.test(memberId)) {
        throw new InvalidArgumentError(`member_id must be 1-128 characters of A-Z a-z 0-9 . _ : - (got ${JSON.stringify(memberId)})`);
      }
      const { topic, subscription } = await resolve(open);
      dispatcher = await registry.get(topic, subscription);
      const config = subscription.config;
      session = new MemberSession(memberId, call, config?.maxUnackedPerMember || 1000, () => { dispatcher?.pump(); });
      call.write({ kind: { $case: 'opened', value: { memberId, config, partitions: dispatcher.partitions } } });
      if (open.initialCredit) {
        assertCount('initial_credit.records', open.initialCredit.records);
        assertCount('initial_credit.bytes', open.initialCredit.bytes);
        session.credit.grant(open.initialCredit.records, open.initialCredit.bytes);
      }
      dispatcher.attach(session);
      return;
    }
    if (!session || !dispatcher) throw new FailedPreconditionError(`${kind.$case} before open: the first message on a Subscribe stream must be open`);
    switch (kind.$case) {
      case 'credit':
        assertCount('credit.records', kind.value.records);
        assertCount('credit.bytes', kind.value.bytes);
        session.credit.grant(kind.value.records, kind.value.bytes);
        dispatcher.pump();
        return;
      case 'ack':
        for (const range of kind.value.ranges) {
          assertCount('ack.ranges.first', range.first);
          assertCount('ack.ranges.last', range.last);
          if (range.first > range.last) throw new InvalidArgumentError(`ack range ${range.first}-${range.last} has first > last`);
        }
        dispatcher.ack(session, kind.value.ranges);
        return;
      case 'extend':
        assertCount('extend.extend_ms', kind.value.extendMs);
        dispatcher.extend(session, kind.value.ranges, kind.value.extendMs);
        return;
      case 'nack':
        assertNack('nack', kind.value);
        dispatcher.nack(session, kind.value);
        return;
      case 'nacks':
        // All checked before any is applied: a bad batch changes nothing.
        for (const [i, nack] of kind.value.nacks.entries()) assertNack(`nacks[${i}]`, nack);
        for (const nack of kind.value.nacks) dispatcher.nack(session, nack);
        return;
      case 'reject':
        assertCount('reject.offset', kind.value.offset);
        dispatcher.reject(session, kind.value);
        return;
    }
  };

  // A stream that breaks (cancelled, failed) rather than ends failed the attempts its member held.
  let broken = false;
  try {
    await new Promise<void>((resolveStream, rejectStream) => {
      let chain = Promise.resolve();
      call.on('data', (message: SubscribeRequest) => {
        chain = chain.then(() => handle(message)).catch((error: unknown) => {
          rejectStream(error);
        });
      });
      call.on('end', () => { void chain.then(() => { resolveStream(); }); });
      call.on('cancelled', () => {
        broken = true;
        resolveStream();
      });
      call.on('close', () => { resolveStream(); });
      call.on('error', () => {
        broken = true;
        resolveStream();
      });
    });
  } finally {
    session?.end();
    if (session && dispatcher) dispatcher.detach(session, broken);
  }
}

/** The ConsumerService registration for the broker's server. */
export function consumerService(registry: DispatcherRegistry, resolve: SubscriptionResolver): ServiceRegistration {
  return {
    name: 'braid.v1.ConsumerService',
    // Deliveries are written pre-encoded (consume/delivery-encoding.ts).
    definition: withEncodedSubscribeResponses(ConsumerServiceService, 'subscribe'),
    implementation: {
      subscribe: bidi((call: ServerDuplexStream<SubscribeRequest, SubscribeOutput>) => subscribe(call, registry, resolve)),
    },
  };
}
