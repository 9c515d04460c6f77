import { Type, type Static } from '@sinclair/typebox';
import { Cron } from 'croner';
import { parseConfig } from '../core/config.js';
import { SluiceError } from '../core/errors.js';

const Strategy = Type.Union(
  ['source_wins', 'target_wins', 'latest_timestamp', 'custom', 'manual'].map((s) => Type.Literal(s)),
  { description: 'How a key changed on both sides since the last sync is settled.' },
);

const ConflictObject = Type.Object(
  {
    strategy: Strategy,
    timestamp_column: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'latest_timestamp: the column whose later value wins (default: filters.timestamp_column).',
      }),
    ),
    function: Type.Optional(
      Type.String({ minLength: 1, description: 'custom: name of a resolver registered with registerConflictResolver.' }),
    ),
  },
  { additionalProperties: false },
);

export const SyncFiltersSchema = Type.Object(
  {
    timestamp_column: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'incremental: the increasing column read after the last watermark; latest_timestamp conflicts compare it.',
      }),
    ),
    primary_key: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Key columns (target names); default: the source primary key.',
      }),
    ),
    operations: Type.Optional(
      Type.Array(Type.Union([Type.Literal('INSERT'), Type.Literal('UPDATE'), Type.Literal('DELETE')]), {
        description: 'Changes applied to the target; others are dropped.',
        default: ['INSERT', 'UPDATE', 'DELETE'],
      }),
    ),
  },
  // The seed's documents carry further hints (e.g. `change_timestamp`); they are kept, not refused.
  { additionalProperties: true },
);

export const SyncRuleSchema = Type.Object(
  {
    rule_id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$', description: 'Unique id; keys state, checkpoints and history.' }),
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    source: Type.String({ minLength: 1, description: 'Datasource name of the source.' }),
    target: Type.String({ minLength: 1, description: 'Datasource name of the target.' }),
    source_config: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Merged over the source datasource config, e.g. `{ "table": "orders" }`.',
      }),
    ),
    target_config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Merged over the target datasource config.' })),
    mode: Type.Union([Type.Literal('full'), Type.Literal('incremental'), Type.Literal('cdc'), Type.Literal('snapshot')], {
      default: 'full',
    }),
    filters: Type.Optional(SyncFiltersSchema),
    field_mapping: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { description: 'Source column → target column.' }),
    ),
    schedule: Type.Optional(Type.String({ minLength: 1, description: 'Cron expression, e.g. `0 */6 * * *`.' })),
    conflict_resolution: Type.Optional(Type.Union([Strategy, ConflictObject], { default: 'source_wins' })),
    bidirectional: Type.Optional(Type.Boolean({ default: false })),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export type SyncRule = Static<typeof SyncRuleSchema>;
export type ConflictStrategy = Static<typeof Strategy>;
export interface ConflictPolicy {
  strategy: ConflictStrategy;
  timestampColumn?: string;
  function?: string;
}

/**
 * Validates a sync rule document (the seed's format) and fills defaults. Errors name each
 * offending field, e.g. `rule.filters.primary_key`.
 */
export function parseSyncRule(document: unknown, prefix = 'rule'): SyncRule {
  const rule = parseConfig(SyncRuleSchema, document, prefix);
  const issues = [];
  if (rule.schedule) {
    try {
      new Cron(rule.schedule, { paused: true }).stop();
    } catch (error) {
      issues.push({ path: `${prefix}.schedule`, message: `not a cron expression: ${(error as Error).message}` });
    }
  }
  if (rule.mode === 'incremental' && !rule.filters?.timestamp_column) {
    issues.push({ path: `${prefix}.filters.timestamp_column`, message: 'incremental sync needs a timestamp column' });
  }
  const policy = conflictPolicy(rule);
  if (policy.strategy === 'custom' && !policy.function) {
    issues.push({ path: `${prefix}.conflict_resolution.function`, message: 'custom conflict resolution names a registered function' });
  }
  if (policy.strategy === 'latest_timestamp' && !policy.timestampColumn) {
    issues.push({
      path: `${prefix}.conflict_resolution.timestamp_column`,
      message: 'latest_timestamp needs a timestamp column (here or in filters)',
    });
  }
  if (rule.bidirectional && rule.mode !== 'full') {
    issues.push({ path: `${prefix}.mode`, message: 'bidirectional sync compares both sides in full: use mode "full"' });
  }
  if (issues.length > 0)
    throw new SluiceError('SLUICE_CONFIG_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
  return rule;
}

/** The conflict policy of a rule, from its string or object form. */
export function conflictPolicy(rule: SyncRule): ConflictPolicy {
  const given = rule.conflict_resolution ?? 'source_wins';
  if (typeof given === 'string') return { strategy: given as ConflictStrategy, timestampColumn: rule.filters?.timestamp_column };
  return {
    strategy: given.strategy as ConflictStrategy,
    timestampColumn: given.timestamp_column ?? rule.filters?.timestamp_column,
    function: given.function,
  };
}
