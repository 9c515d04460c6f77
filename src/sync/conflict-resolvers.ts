import { SluiceError } from '../core/errors.js';

/** A row as text values by target column name. */
export type SyncRow = Record<string, string | null>;

export interface ConflictInput {
  rule_id: string;
  key: string;
  /** The row at the source and at the target; null where the key was deleted. */
  source: SyncRow | null;
  target: SyncRow | null;
}

/** Picks a side, or returns the row both sides should hold (null: delete on both). */
export type ConflictResolver = (
  conflict: ConflictInput,
) => 'source' | 'target' | SyncRow | null | Promise<'source' | 'target' | SyncRow | null>;

const resolvers = new Map<string, ConflictResolver>();

/**
 * Registers a function the `custom` conflict strategy can name:
 * `registerConflictResolver('merge_tags', ({ source, target }) => ({ ...target!, tags: source!.tags }))`.
 */
export function registerConflictResolver(name: string, resolver: ConflictResolver): void {
  resolvers.set(name, resolver);
}

export function conflictResolver(name: string): ConflictResolver {
  const resolver = resolvers.get(name);
  if (!resolver) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', `no conflict resolver registered as '${name}'`, {
      issues: [{ path: 'rule.conflict_resolution.function', message: `known: ${[...resolvers.keys()].join(', ') || 'none'}` }],
    });
  }
  return resolver;
}
