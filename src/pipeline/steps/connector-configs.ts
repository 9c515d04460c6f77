import { SluiceError } from '../../core/errors.js';
import { registry } from '../../core/registry.js';
import { overlayRequest, requestedFields, screenRequestValue, type RequestedField } from '../../core/request-fields.js';
import type { TransformationSpec } from '../../transforms/apply-transforms.js';
import type { ExtractConfig, LoadConfig } from '../step-configs.js';
import type { ResolvedDatasource } from './step-context.js';

/** The request's selection fields as connector fields of the same name, each located under `at`. */
function selection(step: Record<string, unknown>, names: string[], at: string): Record<string, RequestedField> {
  return requestedFields(Object.fromEntries(names.map((name) => [name, step[name]])), at);
}

/**
 * Source config of an extract step (or of a data operation): the datasource's stored config with
 * the step's `query`, `table`, `path`, `params` and `options` on top. Only fields the connector
 * lets a request set are accepted (see overlayRequest); `at` locates the step's fields in the request.
 */
export async function extractSourceConfig(ds: ResolvedDatasource, step: Omit<ExtractConfig, 'source'>, at = 'config'): Promise<Record<string, unknown>> {
  const config = await overlayRequest(ds, { ...requestedFields(step.options, `${at}.options`), ...selection(step, ['query', 'table', 'path', 'params'], at) });
  return ds.type === 'postgresql' ? { ...config, mode: 'query' } : config;
}

/** Sink config of a load step: the target datasource's config with table and mode applied. */
export async function loadSinkConfig(ds: ResolvedDatasource, step: Omit<LoadConfig, 'target'>, at = 'config'): Promise<Record<string, unknown>> {
  const options = requestedFields(step.options, `${at}.options`);
  const table: Record<string, RequestedField> = step.table_name === undefined ? {} : { table: { value: step.table_name, at: `${at}.table_name` } };
  const mode = (value: unknown) => ({ value, at: `${at}.mode` });
  switch (ds.type) {
    case 'postgresql': {
      const base = await overlayRequest(ds, { ...options, ...table, ...selection(step, ['path', 'key', 'create_table'], at), write_mode: mode(step.mode) });
      if (!base.table) throw missingTable(at);
      const { mode: _sourceMode, query: _query, ...connection } = base;
      return connection;
    }
    case 'file':
      if (step.mode === 'upsert') {
        throw new SluiceError('SLUICE_CONFIG_INVALID', 'a file target supports mode append or replace', { issues: [{ path: `${at}.mode`, message: 'upsert needs a keyed target' }] });
      }
      // A file has no table: `table_name` (which the etl_basic template always sets) is ignored.
      return overlayRequest(ds, { ...options, ...selection(step, ['path'], at), mode: mode(step.mode) });
    default:
      return overlayRequest(ds, { ...options, ...table, ...selection(step, ['path', 'key'], at) });
  }
}

function missingTable(at: string): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', 'a load into postgresql needs table_name', { issues: [{ path: `${at}.table_name`, message: 'required for a postgresql target' }] });
}

/** A lookup's reference to a connected datasource, as enrich accepts it from a request. */
interface DatasourceReference {
  datasource: string;
  query?: string;
  table?: string;
  path?: string;
  params?: Array<string | number | boolean | null>;
}

/**
 * Transformations a request gave, ready to run: each type must be a registered transform, nodes
 * a request may not give (inline connector configs) are refused, and each reference to a
 * connected datasource becomes the connector config to read it with, through the same overlay as
 * an extract step. A reference `resolve` finds no datasource for is left as it is.
 */
export async function requestTransformations(
  transformations: TransformationSpec[],
  at: string,
  resolve: (name: string, at: string) => Promise<ResolvedDatasource | undefined>,
): Promise<TransformationSpec[]> {
  const open = async (reference: unknown, where: string) => {
    const { datasource, ...select } = reference as DatasourceReference;
    const ds = await resolve(datasource, `${where}.datasource`);
    return ds ? { type: ds.type, config: await extractSourceConfig(ds, select, where) } : reference;
  };
  return Promise.all(
    transformations.map(async (spec, i) => {
      const definition = registry.getTransform(spec.type);
      if (!definition) {
        const message = `[${i}]: no transform of type '${spec.type}' (types: ${registry.transformTypes().join(', ')})`;
        throw new SluiceError('SLUICE_UNKNOWN_TYPE', `${at}${message}`, { issues: [{ path: at, message }] });
      }
      if (spec.config === undefined) return spec;
      return { ...spec, config: await screenRequestValue(definition.configSchema, spec.config, `${at}[${i}].config`, open) };
    }),
  );
}
