import type { TSchema } from '@sinclair/typebox';
import type { ConnectorRole } from './ports.js';

/** Where a connector config field applies: to one role, and within it to one mode. */
export interface FieldScope {
  role: ConnectorRole;
  /** The value of the config's `mode` the field belongs to (postgresql `cdc`, `incremental`). */
  mode?: string;
}

/**
 * Marks the fields of a connector config that apply to one role (and mode) only, so the reference
 * and the connect form show where each belongs. Spread into the schema's properties:
 *
 * @example
 * Type.Object({ brokers, ...scoped({ role: 'source' }, { topics, group_id }), ...scoped({ role: 'sink' }, { topic }) })
 */
export function scoped<T extends Record<string, TSchema>>(scope: FieldScope, fields: T): T {
  return Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, { ...field, scope }])) as unknown as T;
}

/** How a field's scope reads in the reference: `source`, `sink`, `source, mode cdc`. */
export function scopeLabel(field: TSchema): string | undefined {
  const scope = field.scope as FieldScope | undefined;
  if (!scope) return undefined;
  return scope.mode ? `${scope.role}, mode ${scope.mode}` : scope.role;
}
