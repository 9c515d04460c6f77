import { Type } from '@sinclair/typebox';
import { SyncRuleSchema } from '../../../sync/rule-schema.js';

export const RuleIdParams = Type.Object({ rule_id: Type.String({ minLength: 1, maxLength: 128 }) });

const Count = Type.Integer({ minimum: 0 });

export const SyncRunView = Type.Object({
  run_id: Type.String(),
  rule_id: Type.String(),
  mode: Type.String(),
  bidirectional: Type.Boolean(),
  status: Type.String({ description: 'running, completed, stopped or failed' }),
  trigger: Type.String(),
  started_at: Type.String(),
  finished_at: Type.Optional(Type.String()),
  duration_ms: Type.Optional(Count),
  lag_ms: Type.Optional(Count),
  rows_read: Count,
  rows_inserted: Count,
  rows_updated: Count,
  rows_deleted: Count,
  rows_unchanged: Count,
  rows_filtered: Type.Optional(Count),
  conflicts: Count,
  errors: Count,
  error: Type.Optional(Type.String()),
  writes_to_source: Type.Optional(Count),
  writes_to_target: Type.Optional(Count),
  state_keys: Type.Optional(Count),
  state_bytes: Type.Optional(Count),
});

export const SyncRuleView = Type.Object({ rule: SyncRuleSchema, next_run: Type.Union([Type.String(), Type.Null()]) });

export const RuleStatusView = Type.Object({
  rule_id: Type.String(),
  running: Type.Boolean(),
  next_run: Type.Union([Type.String(), Type.Null()]),
  last_run: Type.Optional(SyncRunView),
  total_syncs: Count,
  successful_syncs: Count,
  failed_syncs: Count,
  average_sync_ms: Count,
  lag_ms: Type.Optional(Count),
  state: Type.Object({ keys: Count, bytes: Count }),
  open_conflicts: Count,
});

const Row = Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])), Type.Null()]);

export const ConflictView = Type.Object({
  key: Type.String({ description: 'The key values as a JSON array of text, e.g. ["42"]' }),
  source: Row,
  target: Row,
  detected_at: Type.String(),
});

export const ResolveBody = Type.Object(
  {
    key: Type.String({ minLength: 1, description: 'Key of the conflict, as listed' }),
    resolution: Type.Union([Type.Literal('source'), Type.Literal('target')], { description: 'The side whose row both sides keep' }),
  },
  { additionalProperties: false },
);
