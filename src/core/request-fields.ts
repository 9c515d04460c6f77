import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { confinePath } from './confine-path.js';
import { SluiceError } from './errors.js';
import { registry } from './registry.js';
import { resolveEnvRefs } from './secrets.js';

/*
 * What a control-plane request may choose. A request picks *what* to read or write from a
 * datasource an admin connected, never *where*: schema annotations say which fields it may set.
 *
 * - `request: true` on a connector config field: a request may set it (a table, a query, a limit).
 *   Every other field (hosts, URLs, ports, credentials, the stored path) is refused.
 * - `confined: true` besides: the value is a path the request chooses inside the stored value,
 *   which must be a directory (see confinePath).
 * - `request: false` on a node of a transform config: a request may not give it (an inline
 *   connector config); `datasource: true` on a node: a reference to a connected datasource.
 */

/** A value a request gave for a connector field, with where in the request it came from. */
export interface RequestedField {
  value: unknown;
  at: string;
}

/** Where a request value holds `${env:`, if anywhere: references are never resolved in requests. */
export function envRefPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('${env:') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = envRefPath(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = envRefPath(k, `${path}.${k}`) ?? envRefPath(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}

export function envRefRefused(path: string): SluiceError {
  const message = '${env:...} references are resolved only in stored datasource configs and topology files, never in a request';
  return new SluiceError('SLUICE_CONFIG_INVALID', `${path}: ${message}`, { issues: [{ path, message }] });
}

/** The fields of an object a request gave, each located under `at`; undefined values are left out. */
export function requestedFields(values: Record<string, unknown> | undefined, at: string): Record<string, RequestedField> {
  return Object.fromEntries(
    Object.entries(values ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, value]) => [k, { value, at: `${at}.${k}` }]),
  );
}

/** The fields of a connector config schema a request may set (`xlsx.sheet` for a nested one). */
export function requestFieldNames(schema: TSchema): string[] {
  return Object.entries((schema.properties ?? {}) as Record<string, TSchema>).flatMap(([name, field]) => {
    if (field.request === true) return [name];
    return isPartlyRequestable(field) ? requestFieldNames(field).map((sub) => `${name}.${sub}`) : [];
  });
}

/**
 * An object field a request may set only some members of (a sheet to read, but not the limits
 * an admin chose for the workbook): the request's members are laid over the stored object.
 */
function isPartlyRequestable(field: TSchema | undefined): field is TSchema {
  return (
    field?.request !== true &&
    field?.properties !== undefined &&
    Object.values(field.properties as Record<string, TSchema>).some((sub) => sub.request === true)
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function forbidden(at: string, message: string): SluiceError {
  return new SluiceError('SLUICE_FORBIDDEN', `${at}: ${message}`, { issues: [{ path: at, message }] });
}

/**
 * The config a request runs with: the datasource's stored config (its `${env:NAME}` references
 * resolved: an admin stored it) with the request's fields laid over it. A field the connector's
 * schema does not mark `request: true` is refused (SLUICE_FORBIDDEN naming the request field),
 * `${env:` in a request value is refused, and a `confined` path is resolved inside the stored one.
 */
export async function overlayRequest(
  datasource: { type: string; config: Record<string, unknown> },
  fields: Record<string, RequestedField>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>> {
  const connector = registry.getConnector(datasource.type);
  if (!connector) throw new SluiceError('SLUICE_UNKNOWN_TYPE', `no connector of type '${datasource.type}'`);
  const properties = (connector.configSchema.properties ?? {}) as Record<string, TSchema>;
  for (const [name, { value, at }] of Object.entries(fields)) {
    if (properties[name]?.request !== true) {
      if (!isPartlyRequestable(properties[name]) || !isPlainObject(value)) {
        throw forbidden(
          at,
          `a request may not set '${name}' of a ${datasource.type} datasource (it may set: ${requestFieldNames(connector.configSchema).join(', ') || 'nothing'})`,
        );
      }
      const nested = properties[name].properties as Record<string, TSchema>;
      const refused = Object.keys(value).find((sub) => nested[sub]?.request !== true);
      if (refused)
        throw forbidden(
          `${at}.${refused}`,
          `a request may not set '${name}.${refused}' of a ${datasource.type} datasource (it may set: ${requestFieldNames(properties[name])
            .map((n) => `${name}.${n}`)
            .join(', ')})`,
        );
    }
    const envAt = envRefPath(value, at);
    if (envAt) throw envRefRefused(envAt);
  }
  const stored = resolveEnvRefs(datasource.config, env);
  const config = { ...stored };
  for (const [name, { value, at }] of Object.entries(fields)) {
    if (properties[name].request !== true)
      config[name] = { ...(isPlainObject(stored[name]) ? stored[name] : {}), ...(value as Record<string, unknown>) };
    else if (properties[name].confined !== true) config[name] = value;
    else if (typeof value === 'string') config[name] = await confinePath(String(stored[name]), value, at);
    else throw new SluiceError('SLUICE_CONFIG_INVALID', `${at}: must be a string`, { issues: [{ path: at, message: 'must be a string' }] });
  }
  return config;
}

/**
 * Screens a transform config a request gave, along its schema: a node marked `request: false`
 * is refused (SLUICE_FORBIDDEN naming it), and each node marked `datasource: true` (a reference
 * to a connected datasource) is replaced by what `open` makes of it. Unions are followed into
 * the branch the value fits.
 */
export async function screenRequestValue(
  schema: TSchema,
  value: unknown,
  at: string,
  open?: (reference: unknown, at: string) => Promise<unknown>,
): Promise<unknown> {
  if (value === undefined) return value;
  if (schema.request === false)
    throw forbidden(at, 'a request names a connected datasource here; inline connector configs are accepted only in topology files');
  if (schema.datasource === true) return open ? open(value, at) : value;
  if (schema.anyOf) {
    const branch = (schema.anyOf as TSchema[]).find((s) => Value.Check(s, Value.Default(s, structuredClone(value))));
    return branch ? screenRequestValue(branch, value, at, open) : value;
  }
  if (Array.isArray(value) && schema.items) {
    return Promise.all(value.map((v, i) => screenRequestValue(schema.items as TSchema, v, `${at}[${i}]`, open)));
  }
  if (value && typeof value === 'object' && schema.properties) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [name, field] of Object.entries(schema.properties as Record<string, TSchema>)) {
      if (name in out) out[name] = await screenRequestValue(field, out[name], `${at}.${name}`, open);
    }
    return out;
  }
  return value;
}
