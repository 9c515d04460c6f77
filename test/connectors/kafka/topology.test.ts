import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import '../../../src/connectors/kafka/index.js';
import { memorySink } from '../../support/memory-connector.js';
import { BROKERS, committedOffsets, createTopic, kafka, until, uniqueName, deleteCreatedTopics } from './kafka-helpers.js';

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ key: String(from + i), value: JSON.stringify({ n: from + i }) })),
  });
  await producer.disconnect();
}

/** Numbers in the output topic, read with a fresh group. */
async function outputNumbers(topic: string, count: number): Promise<number[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('check') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: number[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void seen.push((JSON.parse(message.value!.toString()) as { n: number }).n) });
  await until(`${count} output messages`, () => seen.length >= count);
  await consumer.disconnect();
  return seen.sort((a, b) => a - b);
}

describe('kafka → runtime → kafka', () => {
  afterAll(deleteCreatedTopics);

  it('copies a topic, commits the checkpointed offsets, and a second run only takes what is new', async () => {
    const input = await createTopic(2, 'sluice-in');
    const output = await createTopic(1, 'sluice-out');
    const groupId = uniqueName('g');
    const dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-'));
    const store = new FileCheckpointStore(join(dir, 'checkpoints'));
    const dlqId = uniqueName('dlq');
    memorySink(dlqId);
    const topology = compileTopology({
      name: uniqueName('copy'),
      checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
      dead_letter: { type: 'memory', config: { id: dlqId } },
      nodes: {
        in: { type: 'kafka', config: { brokers: BROKERS, topics: [input], group_id: groupId } },
        out: { type: 'kafka', inputs: ['in'], config: { brokers: BROKERS, topic: output, key_columns: ['__key'] } },
      },
    });

    const runUntilCommitted = async (total: number) => {
      const stop = new AbortController();
      const running = runTopology(topology, { checkpoints: store, signal: stop.signal });
      await until('every input offset committed', async () => {
        const offsets = await committedOffsets(groupId, input);
        return Number(offsets[0]) + Number(offsets[1]) === total;
      });
      stop.abort();
      return running;
    };

    await produce(input, 0, 50);
    const first = await runUntilCommitted(50);
    expect(first.status).toBe('stopped');
    expect(await outputNumbers(output, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const checkpoints = await store.list(topology.name);
    const committed = await committedOffsets(groupId, input);
    expect(Object.values(checkpoints).sort()).toEqual(Object.values(committed).sort());

    await produce(input, 50, 10);
    const second = await runUntilCommitted(60);
    expect(second.status).toBe('stopped');
    expect(await outputNumbers(output, 60)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    await store.close();
  });
});
