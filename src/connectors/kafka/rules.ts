import type { ErrorIssue } from '../../core/errors.js';
import type { ConnectorRole } from '../../core/ports.js';
import type { KafkaConfig } from './config.js';

/** What a kafka config needs beyond its schema, as a source (topics to read) or a sink (a topic to write). */
export function kafkaConfigRules(config: KafkaConfig, role: ConnectorRole): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  if (config.format === 'avro' && !config.schema_registry)
    issues.push({ path: 'schema_registry', message: 'format avro needs `schema_registry`' });
  if (role === 'source') {
    if (!config.topics) issues.push({ path: 'topics', message: 'a kafka source needs `topics`' });
    if (config.start_from === 'timestamp' && config.start_timestamp === undefined) {
      issues.push({ path: 'start_timestamp', message: 'start_from "timestamp" needs start_timestamp' });
    }
  } else {
    if (!config.topic) issues.push({ path: 'topic', message: 'a kafka sink needs `topic`' });
    if (config.format === 'raw') issues.push({ path: 'format', message: 'a kafka sink writes json or avro, not raw' });
  }
  return issues;
}
