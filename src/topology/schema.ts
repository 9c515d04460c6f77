import { Type, type Static } from '@sinclair/typebox';
import { CheckpointConfigSchema } from '../state/checkpoint-config.js';

export const NodeSpecSchema = Type.Object(
  {
    type: Type.String({ description: 'Connector type (source when it has no inputs, sink when it has) or transform type.' }),
    inputs: Type.Optional(Type.Array(Type.String(), { description: 'Names of the nodes feeding this one.' })),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The type's own configuration." })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const DeadLetterSpecSchema = Type.Object(
  {
    type: Type.String({ default: 'file', description: 'A connector with a sink.' }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const SettingsSchema = Type.Object(
  {
    batch_size: Type.Optional(Type.Integer({ minimum: 1, default: 10_000, description: 'Rows per batch sources emit.' })),
    max_in_flight: Type.Optional(
      Type.Integer({ minimum: 1, default: 8, description: 'Batches of one partition in flight before the source waits.' }),
    ),
    partition_concurrency: Type.Optional(
      Type.Integer({ minimum: 1, default: 4, description: 'Partitions of a bounded source read at once (unbounded sources read all).' }),
    ),
    sink_retries: Type.Optional(
      Type.Integer({ minimum: 0, default: 3, description: 'Retries of a failed retriable sink write before the run fails.' }),
    ),
    checkpoint_retries: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 3,
        description: 'Retries of a failed retriable checkpoint write or source commit before the run fails.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TopologySpecSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Unique name; keys its checkpoints.' }),
    description: Type.Optional(Type.String()),
    checkpoint: Type.Optional(CheckpointConfigSchema),
    dead_letter: Type.Optional(DeadLetterSpecSchema),
    settings: Type.Optional(SettingsSchema),
    nodes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), NodeSpecSchema, {
      description: 'The DAG: sources (no inputs), transforms and sinks (with inputs).',
    }),
  },
  { additionalProperties: false },
);

export type NodeSpec = Static<typeof NodeSpecSchema>;
export type TopologySpec = Static<typeof TopologySpecSchema>;
/** Settings after defaults are filled: every field is set. */
export type Settings = Required<Static<typeof SettingsSchema>>;
export type DeadLetterSpec = Static<typeof DeadLetterSpecSchema>;
