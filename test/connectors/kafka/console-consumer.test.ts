import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../../src/core/batch.js';
import { KafkaSink } from '../../../src/connectors/kafka/sink.js';
import { BROKERS, config, connectorContext, createTopic, deleteCreatedTopics } from './kafka-helpers.js';

const run = promisify(execFile);
const servicesDir = process.env.SLUICE_SERVICES_DIR ?? resolve(import.meta.dirname, '../../../.services');
const jars = join(servicesDir, 'kafka', 'jars', '*');

describe("Kafka's own console consumer reads the sink's output", () => {
  afterAll(deleteCreatedTopics);

  it('gets the same keys and JSON records', async () => {
    const topic = await createTopic(1);
    const rows = Array.from({ length: 12 }, (_, i) => ({ sku: `sku-${i}`, qty: i, price: i + 0.25, note: i % 3 === 0 ? null : `é${i}` }));
    const sink = new KafkaSink(config({ topic, key_columns: ['sku'] }), connectorContext);
    await sink.write({
      data: recordBatchFromRows(rows),
      meta: { stream: 'stock', partition: 'stock', position: undefined, kind: 'records' },
    });
    await sink.close();

    const { stdout } = await run(
      'java',
      [
        '-Xmx128m',
        '-cp',
        jars,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        BROKERS[0],
        '--topic',
        topic,
        '--from-beginning',
        '--max-messages',
        String(rows.length),
        '--timeout-ms',
        '30000',
        '--property',
        'print.key=true',
        '--property',
        'key.separator=\t',
      ],
      { timeout: 60_000, maxBuffer: 1 << 20 },
    );
    const records = stdout
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => {
        const [key, value] = l.split('\t');
        return { key, value: JSON.parse(value) as unknown };
      });
    expect(records).toEqual(rows.map((r) => ({ key: r.sku, value: r })));
  });
});
