import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../../src/core/batch.js';
import { Credits } from '../../../src/core/flow-control.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import { Reading, config, connectorContext, createTopic, kafka, until, uniqueName, deleteCreatedTopics } from './kafka-helpers.js';

describe('kafka source backpressure', () => {
  afterAll(deleteCreatedTopics);

  it('emits no batch without a credit, then resumes exactly where it stopped', async () => {
    const topic = await createTopic(1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: JSON.stringify({ n: i }) })) });
    await producer.disconnect();

    const credits = new Credits(2);
    const source = new KafkaSource(config({ topics: [topic], group_id: uniqueName('g') }), connectorContext);
    const reading = new Reading(source, `${topic}:0`, undefined, 3, credits);
    await until('two batches', () => reading.batches.length === 2);
    // The sinks never acknowledge: however long we wait, nothing more comes out.
    await new Promise((r) => setTimeout(r, 1500));
    expect(reading.batches).toHaveLength(2);
    expect(credits.inFlight).toBe(2);

    credits.release(1);
    await until('a third batch', () => reading.batches.length === 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(reading.batches).toHaveLength(3);

    // Acknowledge as batches come: the rest arrives, nothing skipped or repeated across the pauses.
    const ack = setInterval(() => credits.release(credits.inFlight), 50);
    await until('all 30 rows', () => reading.rows >= 30);
    clearInterval(ack);
    reading.stop();
    await source.close();
    const ns = reading.batches.flatMap((b) => rowsOf(b.data).map((r) => Number(r.n)));
    expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(reading.batches.map((b) => b.data.numRows).every((n) => n <= 3)).toBe(true);
  });
});
