// Consumes a topic with the TypeScript SDK: 16 handlers at once, while the
// records of one key are handled one at a time, in order. CI runs it after
// examples/publish.ts (tools/examples.test.ts).
//
//   BRAID_BROKER=localhost:7401 npx tsx --conditions=@braid/source examples/consume.ts
import { Consumer, StartPosition, SubscriptionMode } from '@braid/client';

const brokers = process.env.BRAID_BROKER ?? 'localhost:7401';
const topic = process.env.BRAID_EXAMPLE_TOPIC ?? 'orders';
const expected = Number(process.env.BRAID_EXAMPLE_COUNT ?? '3');

const consumer = new Consumer({
  brokers,
  topic,
  subscription: 'example-audit',
  createIfMissing: true,
  settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST },
  concurrency: 16,
});

let seen = 0;
const done = consumer.run(async (message) => {
  // Returning acknowledges the record; throwing would nack it.
  console.log(`${message.key?.toString() ?? '-'} ${message.value.toString()} @${message.partition}/${message.offset} attempt ${message.attempt}`);
  if (++seen === expected) void consumer.close();
  await Promise.resolve();
});
await done;
console.log(`consumed ${seen} records`);
