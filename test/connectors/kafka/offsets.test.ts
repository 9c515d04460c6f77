import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../../src/core/batch.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import {
  Reading,
  committedOffsets,
  config,
  connectorContext,
  createTopic,
  kafka,
  until,
  uniqueName,
  deleteCreatedTopics,
} from './kafka-helpers.js';

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ n: from + i }) })) });
  await producer.disconnect();
}

const numbers = (reading: Reading): number[] => reading.batches.flatMap((b) => rowsOf(b.data).map((r) => Number(r.n)));

describe('kafka source offsets', () => {
  afterAll(deleteCreatedTopics);

  it('commits nothing by itself, and exactly the position given to commit()', async () => {
    const topic = await createTopic(1);
    await produce(topic, 0, 10);
    const groupId = uniqueName('g');
    const source = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const reading = new Reading(source, `${topic}:0`, undefined, 4);
    await until('10 rows', () => reading.rows === 10);
    expect(reading.batches.map((b) => b.meta.position)).toEqual(['4', '8', '10']);
    expect(await committedOffsets(groupId, topic)).toEqual({ 0: '-1' });

    await source.commit(`${topic}:0`, reading.batches[0].meta.position!);
    expect(await committedOffsets(groupId, topic)).toEqual({ 0: '4' });
    reading.stop();
    await source.close();
    // Closing does not commit what was read but not acknowledged.
    expect(await committedOffsets(groupId, topic)).toEqual({ 0: '4' });
  });

  it('resumes from the committed offset, or from a checkpoint position when one is given', async () => {
    const topic = await createTopic(1);
    await produce(topic, 0, 10);
    const groupId = uniqueName('g');
    const first = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const r1 = new Reading(first, `${topic}:0`, undefined, 5);
    await until('10 rows', () => r1.rows === 10);
    await first.commit(`${topic}:0`, '6');
    r1.stop();
    await first.close();

    await produce(topic, 10, 2);
    const second = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const r2 = new Reading(second, `${topic}:0`);
    await until('rows 6..11', () => r2.rows === 6);
    r2.stop();
    await second.close();
    expect(numbers(r2)).toEqual([6, 7, 8, 9, 10, 11]);

    // A checkpoint position wins over the group's committed offset.
    const third = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const r3 = new Reading(third, `${topic}:0`, '9');
    await until('rows 9..11', () => r3.rows === 3);
    r3.stop();
    await third.close();
    expect(numbers(r3)).toEqual([9, 10, 11]);
  });

  it('starts a new group at the latest offset or at a timestamp', async () => {
    const topic = await createTopic(1);
    await produce(topic, 0, 3);
    await new Promise((r) => setTimeout(r, 20));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await produce(topic, 3, 2);

    const atTime = new KafkaSource(
      config({ topics: [topic], group_id: uniqueName('g'), start_from: 'timestamp', start_timestamp: cut }),
      connectorContext,
    );
    const rt = new Reading(atTime, `${topic}:0`);
    await until('rows after the timestamp', () => rt.rows === 2);
    rt.stop();
    await atTime.close();
    expect(numbers(rt)).toEqual([3, 4]);

    const latest = new KafkaSource(config({ topics: [topic], group_id: uniqueName('g'), start_from: 'latest' }), connectorContext);
    const rl = new Reading(latest, `${topic}:0`);
    // "Latest" is fixed at the member's first fetch, which no event announces: produce until rows
    // arrive; none of the rows from before the reader started may be among them.
    let next = 5;
    await until('rows produced after the start', async () => {
      await produce(topic, next++, 1);
      return rl.rows > 0;
    });
    rl.stop();
    await latest.close();
    expect(numbers(rl).length).toBeGreaterThan(0);
    expect(numbers(rl).every((n) => n >= 5)).toBe(true);
  });

  it('after a rebalance, commits only partitions this member still owns', async () => {
    const topic = await createTopic(2);
    await produce(topic, 0, 4);
    const groupId = uniqueName('g');
    const a = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const ra = [new Reading(a, `${topic}:0`), new Reading(a, `${topic}:1`)];
    await until('a reads everything', () => ra[0].rows + ra[1].rows === 4);

    // A second member joins: the partitions are split between the two.
    const b = new KafkaSource(config({ topics: [topic], group_id: groupId }), connectorContext);
    const rb = [new Reading(b, `${topic}:0`), new Reading(b, `${topic}:1`)];
    await until('b owns a partition', () => b.owned().length === 1 && a.owned().length === 1);
    const lost = [0, 1].find((p) => !a.owned().includes(`${topic}:${p}`))!;
    await a.commit(`${topic}:${lost}`, '99');
    expect((await committedOffsets(groupId, topic))[lost]).toBe('-1');
    const kept = 1 - lost;
    const keptPosition = ra[kept].batches.at(-1)?.meta.position ?? '0';
    await a.commit(`${topic}:${kept}`, keptPosition);
    expect((await committedOffsets(groupId, topic))[kept]).toBe(keptPosition);

    // Nothing was committed for the moved partition, so its new owner reads it from the start.
    const moved = ra[lost].rows;
    await until('b re-reads the moved partition', () => rb[lost].rows === moved);
    [...ra, ...rb].forEach((r) => r.stop());
    await Promise.all([a.close(), b.close()]);
  });
});
