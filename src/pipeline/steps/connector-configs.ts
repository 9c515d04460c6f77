import { connectorDefinition, requireCapability } from '../../core/capabilities.js';
import { SluiceError } from '../../core/errors.js';
import type { LoadRequest } from '../../core/ports.js';
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
 * the step's `query`, `table`, `path`, `params` and `options` on top, shaped by the connector's
 * `extractConfig` hook. Only fields the connector lets a request set are accepted (see
 * overlayRequest); `at` locates the step's fields in the request.
 */
export async function extractSourceConfig(
  ds: ResolvedDatasource,
  step: Omit<ExtractConfig, 'source'>,
  at = 'config',
): Promise<Record<string, unknown>> {
  const config = await overlayRequest(ds, {
    ...requestedFields(step.options, `${at}.options`),
    ...selection(step, ['query', 'table', 'path', 'params'], at),
  });
  return connectorDefinition(ds.type).extractConfig?.(config) ?? config;
}

/**
 * Sink config of a load step: the target datasource's config with table and mode applied by the
 * connector's `loadConfig` hook (unset: options, table, path and key laid over it). Mode upsert
 * needs a connector that declares `upsert_sink`.
 */
export async function loadSinkConfig(
  ds: ResolvedDatasource,
  step: Omit<LoadConfig, 'target'>,
  at = 'config',
): Promise<Record<string, unknown>> {
  const definition = connectorDefinition(ds.type);
  if (step.mode === 'upsert') requireCapability(definition, 'upsert_sink', 'upsert', `${at}.mode`);
  const request: LoadRequest = {
    options: requestedFields(step.options, `${at}.options`),
    step: {
      ...selection(step, ['path', 'key', 'create_table'], at),
      mode: { value: step.mode, at: `${at}.mode` },
      ...(step.table_name === undefined ? {} : { table: { value: step.table_name, at: `${at}.table_name` } }),
    },
    at,
  };
  const overlay = (fields: Record<string, RequestedField>) => overlayRequest(ds, fields);
  if (definition.loadConfig) return definition.loadConfig(request, overlay);
  const { table, path, key } = request.step;
  return overlay({ ...request.options, ...(table ? { table } : {}), ...(path ? { path } : {}), ...(key ? { key } : {}) });
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
