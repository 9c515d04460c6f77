import { Type } from '@sinclair/typebox';
import { JsonObject } from './common.js';

export const PipelineIdParams = Type.Object({ pipeline_id: Type.String({ minLength: 1, maxLength: 128 }) });
export const RunIdParams = Type.Object({ run_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const PipelineView = Type.Object({
  pipeline_id: Type.String(),
  version: Type.Integer(),
  enabled: Type.Boolean(),
  schedule: Type.Union([Type.String(), Type.Null()]),
  next_run: Type.Union([Type.String(), Type.Null()]),
  document: JsonObject,
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const StepResultView = Type.Object({
  step_id: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  rows_out: Type.Number(),
  result: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.Union([Type.String(), Type.Null()]),
  finished_at: Type.Union([Type.String(), Type.Null()]),
});

export const RunView = Type.Object({
  run_id: Type.String(),
  pipeline_id: Type.String(),
  version: Type.Integer(),
  status: Type.String(),
  trigger: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(StepResultView),
});

export const RollbackBody = Type.Object({ version: Type.Integer({ minimum: 1, description: 'The version whose document becomes current (as a new version).' }) }, { additionalProperties: false });
