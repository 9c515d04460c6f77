import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromColumns, type Batch } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { ReliableSink } from '../../../src/runtime/reliable-sink.js';
import { config, connectorContext, createTopic, deleteCreatedTopics, kafka, until, uniqueName } from './kafka-helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const pidFile = join(process.env.SLUICE_SERVICES_DIR ?? join(root, '.services'), 'kafka', 'kafka.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the broker the service script started, then starts it again and waits until it answers. */
async function restartBroker(onStopped: () => void): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8'));
  if (!alive(pid)) throw new Error(`no broker process ${pid} (from ${pidFile}) to restart`);
  try {
    process.kill(pid, 'SIGTERM');
    await until('the broker to stop', () => !alive(pid), 60_000);
    onStopped();
  } finally {
    await run('bash', [join(root, 'scripts/services.sh'), 'up', 'kafka'], { timeout: 120_000 });
  }
}

function numbers(from: number, count: number): Batch {
  const n = Array.from({ length: count }, (_, i) => from + i);
  return { data: recordBatchFromColumns({ n, label: n.map((v) => `row-${v}`) }), meta: { stream: 'numbers', partition: 'numbers', position: from + count, kind: 'records' } };
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
