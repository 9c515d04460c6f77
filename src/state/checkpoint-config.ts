import { Type, type Static } from '@sinclair/typebox';

export const CheckpointConfigSchema = Type.Union(
  [
    Type.Object(
      {
        store: Type.Literal('file', { description: 'Embedded store: JSON files in a directory (no service needed).' }),
        path: Type.String({ default: '.sluice/checkpoints', description: 'Directory of the checkpoint files.' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        store: Type.Literal('redis'),
        url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis URL; use ${env:REDIS_URL} for credentials.' }),
        key_prefix: Type.String({ default: 'sluice:checkpoint:' }),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Where positions are checkpointed.', default: { store: 'file', path: '.sluice/checkpoints' } },
);

export type CheckpointConfig = Static<typeof CheckpointConfigSchema>;
