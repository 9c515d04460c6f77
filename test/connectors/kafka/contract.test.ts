import { afterAll } from 'vitest';
import '../../../src/connectors/kafka/index.js';
import { sinkContract, sourceContract } from '../../support/connector-contract.js';
import { closedPort } from '../../support/unresponsive-servers.js';
import { BROKERS, createTopic, deleteCreatedTopics, kafka, uniqueName } from './kafka-helpers.js';

afterAll(deleteCreatedTopics);

sourceContract({
  title: 'kafka source',
  type: 'kafka',
  resumable: true,
  unbounded: true,
  seed: async (count) => {
    const topic = await createTopic(1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, id) => ({ value: JSON.stringify({ id, name: `row ${id}` }) })),
    });
    await producer.disconnect();
    return { brokers: BROKERS, topics: [topic], group_id: uniqueName('contract') };
  },
  failures: [
    {
      name: 'a broker that cannot be reached',
      config: async () => ({ brokers: [`127.0.0.1:${await closedPort()}`], topics: ['t'] }),
      retriable: true,
    },
  ],
});

/** Every message of a topic, read from its start with a new group until `count` arrived. */
async function messagesOf(topic: string): Promise<Record<string, unknown>[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = offsets.reduce((n, p) => n + Number(p.high), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: uniqueName('read-back') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const rows: Record<string, unknown>[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      rows.push(JSON.parse(message.value!.toString()) as Record<string, unknown>);
      if (rows.length >= total) done();
    },
  });
  await all;
  await consumer.disconnect();
  return rows;
}

sinkContract({
  title: 'kafka sink',
  type: 'kafka',
  target: async () => {
    const topic = await createTopic(1);
    return { config: { brokers: BROKERS, topic }, readBack: () => messagesOf(topic) };
  },
  failures: [
    {
      name: 'a broker that cannot be reached',
      config: async () => ({ brokers: [`127.0.0.1:${await closedPort()}`], topic: 't' }),
      retriable: true,
    },
  ],
});
