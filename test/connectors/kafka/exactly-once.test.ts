import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows, type Batch } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { startSluice } from '../../support/cli.js';
import {
  BROKERS,
  committedOffsets,
  config,
  connectorContext,
  createTopic,
  deleteCreatedTopics,
  kafka,
  until,
  uniqueName,
} from './kafka-helpers.js';

function batch(values: number[]): Batch {
  return {
    data: recordBatchFromRows(values.map((n) => ({ n }))),
    meta: { stream: 'numbers', partition: 'numbers', position: undefined, kind: 'records' },
  };
}

/**
 * Every `n` in a topic as a `read_committed` consumer sees it, once `expected` arrived and
 * nothing more came for a while (duplicates would arrive in the same committed transactions).
 */
async function committedNumbers(topic: string, expected: number): Promise<number[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('committed'), readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: number[] = [];
  let last = Date.now();
  await consumer.run({
    eachBatch: async ({ batch: fetched }) => {
      for (const m of fetched.messages) seen.push((JSON.parse(m.value!.toString()) as { n: number }).n);
      last = Date.now();
    },
  });
  await until(`${expected} committed messages on ${topic}`, () => seen.length >= expected, 120_000);
  await until('no further messages', () => Date.now() - last > 3000);
  await consumer.disconnect();
  return seen;
}

async function produceNumbers(topic: string, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < count; i += 5000) {
    const messages = Array.from({ length: Math.min(5000, count - i) }, (_, j) => ({
      key: String(i + j),
      value: JSON.stringify({ n: i + j }),
    }));
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

describe('exactly-once kafka → kafka', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await deleteCreatedTopics();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('a second sink with the same transactional id fences the first; only committed writes are visible', async () => {
    const topic = await createTopic(1);
    const transactional_id = uniqueName('tx');
    const first = new KafkaSink(config({ topic, exactly_once: { transactional_id } }), connectorContext);
    await first.open();
    await first.write(batch([1, 2]));

    const second = new KafkaSink(config({ topic, exactly_once: { transactional_id } }), connectorContext);
    await second.open();
    const fenced = await first.write(batch([3, 4])).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(fenced).toMatchObject({ code: 'SLUICE_SINK_FAILED', retriable: false });
    expect((fenced as Error).message).toContain('fenced');
    await second.write(batch([5, 6]));
    await Promise.all([first.close(), second.close()]);

    expect((await committedNumbers(topic, 4)).sort((a, b) => a - b)).toEqual([1, 2, 5, 6]);
  });

  it('kill -9 during a run and a restart: read_committed output holds every input record exactly once', async () => {
    const total = 60_000;
    const input = await createTopic(3, 'sluice-eos-in');
    const output = await createTopic(2, 'sluice-eos-out');
    const groupId = uniqueName('eos');
    await produceNumbers(input, total);
    const dir = await mkdtemp(join(tmpdir(), 'sluice-eos-'));
    dirs.push(dir);
    const file = join(dir, 'topology.json');
    await writeFile(
      file,
      JSON.stringify({
        name: uniqueName('eos'),
        checkpoint: { store: 'file', path: join(dir, 'checkpoints') },
        dead_letter: { type: 'file', config: { path: join(dir, 'dead-letters.ndjson'), format: 'ndjson' } },
        settings: { batch_size: 500 },
        nodes: {
          in: { type: 'kafka', config: { brokers: BROKERS, topics: [input], group_id: groupId, session_timeout_ms: 6000 } },
          out: {
            type: 'kafka',
            inputs: ['in'],
            config: { brokers: BROKERS, topic: output, key_columns: ['__key'], exactly_once: { transactional_id: `${groupId}-tx` } },
          },
        },
      }),
    );
    const inputDone = async () => Object.values(await committedOffsets(groupId, input)).reduce((n, o) => n + Math.max(0, Number(o)), 0);

    const first = startSluice(['run', file, '--quiet']);
    try {
      // Mid-run, so checkpoints exist and lag the transactions committed since (the crash window).
      await until('the first run to commit a quarter of the input', async () => (await inputDone()) >= total / 4, 60_000);
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.done;
    const atKill = await inputDone();
    expect(atKill).toBeLessThan(total);

    const second = startSluice(['run', file, '--quiet']);
    try {
      await until('the restarted run to commit every input offset', async () => (await inputDone()) === total, 120_000);
    } finally {
      second.child.kill('SIGTERM');
    }
    const result = await second.done;
    expect(result.code, result.stderr).toBe(0);

    const numbers = await committedNumbers(output, total);
    expect(numbers.length).toBe(total);
    expect(new Set(numbers).size).toBe(total);
    expect(Math.min(...numbers)).toBe(0);
    expect(Math.max(...numbers)).toBe(total - 1);
  }, 240_000);
});
