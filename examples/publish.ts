// Publishes keyed records with the TypeScript SDK. The README's "Publishing"
// section shows this file; CI runs it against a real broker
// (tools/examples.test.ts), so the example cannot rot.
//
//   BRAID_BROKER=localhost:7401 npx tsx --conditions=@braid/source examples/publish.ts
import { Admin, Producer } from '@braid/client';

const brokers = process.env.BRAID_BROKER ?? 'localhost:7401';
const topic = process.env.BRAID_EXAMPLE_TOPIC ?? 'orders';

const admin = new Admin({ brokers });
const existing = await admin.listTopics();
if (!existing.some((t) => t.name === topic)) await admin.createTopic(topic, { partitions: 8 });
admin.close();

const producer = new Producer({ brokers }); // batching, idempotent, retries
const created = await producer.send(topic, { key: 'user-1', value: 'created', headers: { source: 'example' } });
const [paid, shipped] = await producer.send(topic, [
  { key: 'user-1', value: 'paid' },
  { key: 'user-1', value: 'shipped' },
]);
await producer.close();

// Records of one key share a partition and keep their order.
console.log(`user-1: created @${created.partition}/${created.offset}, paid @${paid?.partition}/${paid?.offset}, shipped @${shipped?.partition}/${shipped?.offset}`);
