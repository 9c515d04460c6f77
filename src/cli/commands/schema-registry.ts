import { parseArgs } from 'node:util';
import { logger } from '../../core/logger.js';
import { startSchemaRegistry } from '../../connectors/kafka/schema-registry/start-schema-registry.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeErr, writeOut } from '../output.js';

export const schemaRegistryCommand: Command = {
  name: 'schema-registry',
  summary: 'serve a Confluent-compatible schema registry (Avro) stored in Kafka',
  usage: `Usage: sluice schema-registry [options]

Serves the Confluent Schema Registry REST API (subjects, versions, schemas by id, config,
compatibility checks) for Avro schemas. State lives in a compacted Kafka topic and is replayed
at startup. Runs until SIGINT/SIGTERM.

Options:
  --port <n>      port to listen on (default 8081)
  --host <h>      address to bind (default 127.0.0.1)
  --brokers <l>   Kafka brokers, comma-separated (default $KAFKA_BROKERS or 127.0.0.1:9092)
  --topic <t>     topic holding the schemas (default _schemas)
  -h, --help      this help`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8081' },
        host: { type: 'string', default: '127.0.0.1' },
        brokers: { type: 'string' },
        topic: { type: 'string' },
      },
    });
    const port = Number(values.port);
    if (positionals.length > 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
      writeErr(`${this.usage}\n`);
      return EXIT.usage;
    }
    const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    const registry = await startSchemaRegistry({ brokers, port, host: values.host, topic: values.topic, logger });
    writeOut(`schema registry listening on ${registry.url}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await registry.close();
    return EXIT.ok;
  },
};
