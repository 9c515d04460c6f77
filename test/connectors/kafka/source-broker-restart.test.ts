import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../../src/core/batch.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import {
  Reading,
  committedOffsets,
  config,
  connectorContext,
  createTopic,
  deleteCreatedTopics,
  kafka,
  restartBroker,
  until,
  uniqueName,
} from './kafka-helpers.js';

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ n: from + i }) })) });
  await producer.disconnect();
}

describe('kafka source across a broker restart', () => {
  afterAll(deleteCreatedTopics);

  it('offset commits while the broker restarts neither fail nor end the read; commits land again once it is back', async () => {
    const topic = await createTopic(1);
    const partition = `${topic}:0`;
    await produce(topic, 0, 10);
    const groupId = uniqueName('restart');
    const source = new KafkaSource(config({ topics: [topic], group_id: groupId, session_timeout_ms: 6000 }), connectorContext);
    const reading = new Reading(source, partition, undefined, 5);
    await until('10 rows', () => reading.rows === 10, 60_000);
    await source.commit(partition, '5');

    // Commit again and again through the restart, as a running pipeline does after every batch.
    const failures: unknown[] = [];
    let restarted = false;
    const committing = (async () => {
      while (!restarted) {
        await source.commit(partition, '10').catch((error: unknown) => failures.push(error));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await restartBroker(() => undefined).finally(() => (restarted = true));
    await committing;
    expect(failures).toEqual([]);

    await produce(topic, 10, 5);
    await until('the read to go on after the restart', () => reading.rows >= 15, 120_000);
    await until('the member to own its partition again', () => source.owned().includes(partition), 60_000);
    await source.commit(partition, '15');
    expect(await committedOffsets(groupId, topic)).toEqual({ 0: '15' });
    reading.stop();
    await source.close();
    expect(reading.error).toBeUndefined();
    // Resumed where it was: nothing read twice, nothing skipped.
    expect(reading.batches.flatMap((b) => rowsOf(b.data).map((r) => Number(r.n)))).toEqual(Array.from({ length: 15 }, (_, i) => i));
  }, 300_000);
});
