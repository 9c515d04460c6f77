import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SluiceError, type ErrorIssue } from './errors.js';

/** `/outlier_columns/0` → `outlier_columns[0]`, prefixed with where the value sits. */
export function pointerToPath(prefix: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let path = prefix;
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  return path;
}

/** Every schema violation of a value, each with the path of the offending field. */
export function schemaIssues(schema: TSchema, value: unknown, prefix = ''): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(prefix, error.path) || prefix || '(root)';
    // Union branches repeat the same complaint; keep the first per path.
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({ path, message: describe(error.schema, error.value, error.message) });
  }
  return issues;
}

/** Spells out what a union of literals (an enum) accepts instead of "Expected union value". */
function describe(schema: TSchema, value: unknown, fallback: string): string {
  const options = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const);
  if (options && options.length > 0 && options.every((o) => o !== undefined)) {
    return `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}; got ${JSON.stringify(value)}`;
  }
  return fallback;
}

/**
 * Validates a config against its schema after filling defaults; throws a SluiceError whose
 * message and issues name each offending field.
 */
export function parseConfig<S extends TSchema>(schema: S, value: unknown, prefix = 'config'): Static<S> {
  const withDefaults = Value.Default(schema, structuredClone(value ?? {}));
  const issues = schemaIssues(schema, withDefaults, prefix);
  if (issues.length > 0) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', formatIssues(issues), { issues });
  }
  return withDefaults as Static<S>;
}

export function formatIssues(issues: ErrorIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
