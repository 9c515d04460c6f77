import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromColumns, type Batch } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { ReliableSink } from '../../../src/runtime/reliable-sink.js';
import { config, connectorContext, createTopic, deleteCreatedTopics, kafka, restartBroker, until, uniqueName } from './kafka-helpers.js';

function numbers(from: number, count: number): Batch {
  const n = Array.from({ length: count }, (_, i) => from + i);
  return {
    data: recordBatchFromColumns({ n, label: n.map((v) => `row-${v}`) }),
    meta: { stream: 'numbers', partition: 'numbers', position: from + count, kind: 'records' },
  };
}

describe('kafka sink across a broker restart', () => {
  afterAll(deleteCreatedTopics);

  it('loses nothing when the broker stops and starts during a produce run', async () => {
    const topic = await createTopic(2);
    const batches = 200;
    const size = 500;
    // The runtime's retrying wrapper, with enough attempts to outlast a broker restart.
    const sink = new ReliableSink('out', new KafkaSink(config({ topic, key_columns: ['n'] }), connectorContext), 30);
    let written = 0;
    const producing = (async () => {
      for (let b = 0; b < batches; b++) {
        await sink.write(numbers(b * size, size));
        written = b + 1;
      }
    })();
    producing.catch(() => undefined);
    await until('a tenth of the batches written', () => written >= batches / 10, 60_000);
    let writtenWhileDown = 0;
    await restartBroker(() => (writtenWhileDown = written));
    // The outage hit the middle of the run: later batches had to wait for the broker.
    expect(writtenWhileDown).toBeLessThan(batches);
    await producing;
    expect(written).toBe(batches);
    await sink.close();

    const consumer = kafka.consumer({ groupId: uniqueName('restart-check') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set<number>();
    await consumer.run({ eachMessage: async ({ message }) => void seen.add((JSON.parse(message.value!.toString()) as { n: number }).n) });
    await until('every row read back', () => seen.size >= batches * size, 120_000);
    await consumer.disconnect();
    expect(seen.size).toBe(batches * size);
    expect([...seen].every((n) => Number.isInteger(n) && n >= 0 && n < batches * size)).toBe(true);
  }, 240_000);
});
