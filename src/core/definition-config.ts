import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { formatIssues, schemaIssues } from './config.js';
import { SluiceError, type ErrorIssue } from './errors.js';
import type { ConnectorDefinition, ConnectorRole, TransformDefinition } from './ports.js';

/** A path inside a config placed under where the config sits: `config` + `window.size`, `lookups[0]`, or `` for the config itself. */
export function configPath(prefix: string, path: string): string {
  if (!path) return prefix;
  if (!prefix) return path;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

export interface CheckedConfig<T> {
  /** The config with its defaults filled in. */
  config: T;
  /** Every problem, each with its full path; empty when the config is usable. */
  issues: ErrorIssue[];
}

/** Schema first; the definition's rules across fields only run on a config that has the schema's shape. */
function check<S extends TSchema>(
  schema: S,
  rules: ((config: Static<S>) => ErrorIssue[]) | undefined,
  value: unknown,
  prefix: string,
): CheckedConfig<Static<S>> {
  const config = Value.Default(schema, structuredClone(value ?? {})) as Static<S>;
  const issues = schemaIssues(schema, config, prefix);
  if (issues.length === 0 && rules) {
    for (const issue of rules(config)) issues.push({ path: configPath(prefix, issue.path), message: issue.message });
  }
  return { config, issues };
}

/** Checks a config against its schema alone. */
export function checkConfig<S extends TSchema>(schema: S, value: unknown, prefix = 'config'): CheckedConfig<Static<S>> {
  return check(schema, undefined, value, prefix);
}

/** Checks a connector config for one role against its schema and the connector's rules across fields. */
export function checkConnectorConfig<S extends TSchema>(
  definition: ConnectorDefinition<S>,
  value: unknown,
  role: ConnectorRole,
  prefix = 'config',
): CheckedConfig<Static<S>> {
  return check(definition.configSchema, definition.validate && ((config) => definition.validate!(config, role)), value, prefix);
}

/** Checks a transform config against its schema and the transform's rules across fields. */
export function checkTransformConfig<S extends TSchema>(
  definition: TransformDefinition<S>,
  value: unknown,
  input: { unbounded: boolean },
  prefix = 'config',
): CheckedConfig<Static<S>> {
  return check(definition.configSchema, definition.validate && ((config) => definition.validate!(config, input)), value, prefix);
}

/**
 * Checks the config of a datasource: a connection that each use completes and gives its role (a
 * pipeline step's table or query, a sync rule's cursor column, a data request), so a field a role
 * needs may still be missing. Its problems are the schema's and those the connector's rules report
 * in every role it has: what no use of the datasource can get past.
 */
export function checkDatasourceConfig<S extends TSchema>(
  definition: ConnectorDefinition<S>,
  value: unknown,
  prefix = 'config',
): CheckedConfig<Static<S>> {
  const roles = (['source', 'sink'] as const).filter((role) => (role === 'source' ? definition.createSource : definition.createSink));
  const [first, ...others] = roles.map((role) => checkConnectorConfig(definition, value, role, prefix));
  const same = (a: ErrorIssue) => (b: ErrorIssue) => a.path === b.path && a.message === b.message;
  return { config: first.config, issues: first.issues.filter((issue) => others.every((other) => other.issues.some(same(issue)))) };
}

/** The config of a datasource (see {@link checkDatasourceConfig}), defaults filled; throws SLUICE_CONFIG_INVALID naming every offending field otherwise. */
export function parseDatasourceConfig<S extends TSchema>(definition: ConnectorDefinition<S>, value: unknown, prefix = 'config'): Static<S> {
  return usable(checkDatasourceConfig(definition, value, prefix));
}

function usable<T>({ config, issues }: CheckedConfig<T>): T {
  if (issues.length > 0) throw new SluiceError('SLUICE_CONFIG_INVALID', formatIssues(issues), { issues });
  return config;
}

/**
 * The config a connector's `createSource` (role `source`) or `createSink` (role `sink`) takes,
 * defaults filled; throws SLUICE_CONFIG_INVALID naming every offending field otherwise.
 */
export function parseConnectorConfig<S extends TSchema>(
  definition: ConnectorDefinition<S>,
  value: unknown,
  role: ConnectorRole,
  prefix = 'config',
): Static<S> {
  return usable(checkConnectorConfig(definition, value, role, prefix));
}

/** The config a transform's `create` takes, defaults filled; throws SLUICE_CONFIG_INVALID naming every offending field otherwise. */
export function parseTransformConfig<S extends TSchema>(
  definition: TransformDefinition<S>,
  value: unknown,
  input: { unbounded: boolean },
  prefix = 'config',
): Static<S> {
  return usable(checkTransformConfig(definition, value, input, prefix));
}
