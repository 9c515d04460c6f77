import { SluiceError } from '../../core/errors.js';
import type { ExtractConfig, LoadConfig } from '../step-configs.js';
import type { ResolvedDatasource } from './step-context.js';

/** Drops undefined values so they do not override a datasource's own settings. */
function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

/**
 * Source config of an extract step: the datasource's config with the step's `query`, `table`
 * or `path` (and `options`) on top, translated to the connector type's field names.
 */
export function extractSourceConfig(ds: ResolvedDatasource, step: ExtractConfig): Record<string, unknown> {
  const base = { ...ds.config, ...step.options };
  switch (ds.type) {
    case 'postgresql':
      return { ...base, ...defined({ query: step.query, table: step.table, params: step.params }), mode: 'query' };
    case 'file':
      return { ...base, ...defined({ path: step.path }) };
    default:
      return { ...base, ...defined({ query: step.query, table: step.table, path: step.path, params: step.params }) };
  }
}

/** Sink config of a load step: the target datasource's config with table and mode applied. */
export function loadSinkConfig(ds: ResolvedDatasource, step: LoadConfig): Record<string, unknown> {
  const base = { ...ds.config, ...step.options };
  switch (ds.type) {
    case 'postgresql': {
      if (!step.table_name && !base.table) throw missingTable();
      const { mode: _sourceMode, query: _query, ...connection } = base;
      return { ...connection, ...defined({ table: step.table_name, key: step.key }), write_mode: step.mode, create_table: step.create_table };
    }
    case 'file':
      if (step.mode === 'upsert') {
        throw new SluiceError('SLUICE_CONFIG_INVALID', 'a file target supports mode append or replace', { issues: [{ path: 'config.mode', message: 'upsert needs a keyed target' }] });
      }
      return { ...base, ...defined({ path: step.path }), mode: step.mode };
    default:
      return { ...base, ...defined({ table: step.table_name, path: step.path, key: step.key }) };
  }
}

function missingTable(): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', 'a load into postgresql needs table_name', { issues: [{ path: 'config.table_name', message: 'required for a postgresql target' }] });
}
