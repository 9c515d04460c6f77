import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/connectors/kafka/index.js';
import { runTopology } from '../../../src/runtime/run-topology.js';
import { FileCheckpointStore } from '../../../src/state/file-checkpoint-store.js';
import { compileTopology } from '../../../src/topology/compile.js';
import { gate, memorySink } from '../../support/memory-connector.js';
import { BROKERS, committedOffsets, createTopic, deleteCreatedTopics, kafka, silent, uniqueName, until } from './kafka-helpers.js';

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
      await producer.send({ topic: input, messages: Array.from({ length: 5000 }, (_, j) => ({ key: String(i + j), value: JSON.stringify({ id: i + j }) })) });
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
    await until('every offset committed', async () => Object.values(await committedOffsets(groupId, input)).reduce((n, o) => n + Number(o), 0) === total, 60_000);
    const [a, b] = await Promise.all([first.stop(), second.stop()]);
    expect([a.status, b.status]).toEqual(['stopped', 'stopped']);

    expect(seen().size).toBe(total);
    expect([...seen()].every((n) => n >= 0 && n < total)).toBe(true);
    expect(second.sink.rows.length).toBeGreaterThan(0);
  }, 240_000);
});
