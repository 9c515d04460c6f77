import type { ErrorIssue } from '../../core/errors.js';
import type { ConnectorRole } from '../../core/ports.js';
import type { PostgresConfig } from './config.js';

/**
 * What a postgresql config needs beyond its schema: per source mode the fields it reads by, and
 * for a sink a way to name the target table. What only the server knows (a primary key, a
 * column's existence) is checked when the read starts.
 */
export function postgresConfigRules(config: PostgresConfig, role: ConnectorRole): ErrorIssue[] {
  if (role === 'sink') {
    return config.table || config.table_map || config.target_schema
      ? []
      : [{ path: 'table', message: 'a postgresql sink needs `table`, `table_map` or `target_schema`' }];
  }
  const issues: ErrorIssue[] = [];
  if (config.mode === 'query') {
    if (!config.table && !config.query) issues.push({ path: 'table', message: 'a postgresql query source needs `table` or `query`' });
    if (config.parallelism > 1 && config.table && !config.query && config.key && config.key.length !== 1) {
      issues.push({ path: 'key', message: `a parallel read (parallelism ${config.parallelism}) needs a single-column integer key` });
    }
  }
  if (config.mode === 'incremental') {
    if (!config.table) issues.push({ path: 'table', message: 'a postgresql incremental source needs `table`' });
    if (!config.cursor_column) issues.push({ path: 'cursor_column', message: 'a postgresql incremental source needs `cursor_column`' });
  }
  return issues;
}
