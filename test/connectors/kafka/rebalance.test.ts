import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/connectors/kafka/index.js';
import { rowsOf } from '../../../src/core/batch.js';
import { KafkaSource } from '../../../src/connectors/kafka/source.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import { gate, memorySink } from '../../support/memory-connector.js';
import {
  BROKERS,
  Reading,
  committedOffsets,
  config,
  connectorContext,
  createTopic,
  deleteCreatedTopics,
  kafka,
  silent,
  uniqueName,
  until,
} from './kafka-helpers.js';

describe('kafka source: a second instance joins the group mid-run', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await deleteCreatedTopics();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('loses no record: the partitions move, and each instance commits only what it acknowledged', async () => {
    const total = 20_000;
    const input = await createTopic(4, 'sluice-rebalance');
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < total; i += 5000) {
      await producer.send({
        topic: input,
        messages: Array.from({ length: 5000 }, (_, j) => ({ key: String(i + j), value: JSON.stringify({ id: i + j }) })),
      });
    }
    await producer.disconnect();
    const groupId = uniqueName('rebalance');

    const instance = async (name: string) => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-rebalance-'));
      dirs.push(dir);
      const sinkId = uniqueName(name);
      const sink = memorySink(sinkId);
      const dlq = uniqueName(`${name}-dlq`);
      memorySink(dlq);
      const topology = compileTopology({
        name: uniqueName(name),
        dead_letter: { type: 'memory', config: { id: dlq } },
        settings: { batch_size: 250 },
        nodes: {
          in: { type: 'kafka', config: { brokers: BROKERS, topics: [input], group_id: groupId, session_timeout_ms: 6000 } },
          out: { type: 'memory', inputs: ['in'], config: { id: sinkId } },
        },
      });
      const stop = new AbortController();
      const checkpoints = new FileCheckpointStore(join(dir, 'checkpoints'));
      const running = runTopology(topology, { signal: stop.signal, checkpoints, logger: silent });
      return {
        sink,
        stop: async () => {
          stop.abort();
          const summary = await running;
          await checkpoints.close();
          return summary;
        },
      };
    };

    const first = await instance('first');
    await until('the first instance to write', () => first.sink.rows.length > 0, 60_000);
    // Hold the first instance's sink: it has batches in flight, unacknowledged, when it loses partitions.
    const held = gate();
    first.sink.gate = held.promise;
    const second = await instance('second');
    await until('the second instance to get partitions and write', () => second.sink.rows.length > 0, 60_000);
    held.open();
    first.sink.gate = undefined;

    const seen = () => new Set([...first.sink.rows, ...second.sink.rows]);
    await until('every record written by one instance or the other', () => seen().size === total, 120_000);
    await until(
      'every offset committed',
      async () => Object.values(await committedOffsets(groupId, input)).reduce((n, o) => n + Number(o), 0) === total,
      60_000,
    );
    const [a, b] = await Promise.all([first.stop(), second.stop()]);
    expect([a.status, b.status]).toEqual(['stopped', 'stopped']);

    expect(seen().size).toBe(total);
    expect([...seen()].every((n) => n >= 0 && n < total)).toBe(true);
    expect(second.sink.rows.length).toBeGreaterThan(0);
  }, 240_000);

  it('a partition that comes back after another member read it continues from what that member committed', async () => {
    const topic = await createTopic(2, 'sluice-reassign');
    const producer = kafka.producer();
    await producer.connect();
    const produce = (partition: number, from: number, count: number) =>
      producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, value: JSON.stringify({ n: from + i }) })) });
    await Promise.all([produce(0, 0, 10), produce(1, 0, 10)]);
    const groupId = uniqueName('reassign');
    const numbers = (reading: Reading) => reading.batches.flatMap((b) => rowsOf(b.data).map((r) => Number(r.n)));

    const a = new KafkaSource(config({ topics: [topic], group_id: groupId, session_timeout_ms: 6000 }), connectorContext);
    const ra = [new Reading(a, `${topic}:0`), new Reading(a, `${topic}:1`)];
    await until('a reads both partitions', () => ra[0].rows + ra[1].rows === 20, 60_000);
    await Promise.all([a.commit(`${topic}:0`, '10'), a.commit(`${topic}:1`, '10')]);

    // b joins and takes one partition, reads what is new there, commits it, and leaves.
    const b = new KafkaSource(config({ topics: [topic], group_id: groupId, session_timeout_ms: 6000 }), connectorContext);
    const rb = [new Reading(b, `${topic}:0`), new Reading(b, `${topic}:1`)];
    await until('the partitions split', () => a.owned().length === 1 && b.owned().length === 1, 60_000);
    const moved = Number(b.owned()[0].split(':').at(-1));
    await produce(moved, 10, 5);
    await until('b reads the new records', () => rb[moved].rows === 5, 60_000);
    await b.commit(`${topic}:${moved}`, '15');
    rb.forEach((r) => r.stop());
    await b.close();

    // Back at a: only what came after b's commit, not again what b read (a had stopped at 10).
    await until('a owns both partitions again', () => a.owned().length === 2, 60_000);
    await produce(moved, 15, 1);
    await until('a reads the record produced after the move back', () => numbers(ra[moved]).includes(15), 60_000);
    await producer.disconnect();
    ra.forEach((r) => r.stop());
    await a.close();
    const first = Array.from({ length: 10 }, (_, i) => i);
    expect(numbers(ra[moved])).toEqual([...first, 15]);
    expect(numbers(ra[1 - moved])).toEqual(first);
    expect(numbers(rb[moved])).toEqual([10, 11, 12, 13, 14]);
  }, 240_000);
});
