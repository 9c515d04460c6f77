import { Type, type Static } from '@sinclair/typebox';

export const CheckpointConfigSchema = Type.Union(
  [
    Type.Object(
      {
        store: Type.Literal('file', { description: 'Embedded store: JSON files in a directory (no service needed).' }),
        path: Type.Optional(Type.String({ default: '.sluice/checkpoints', description: 'Directory of the checkpoint files.' })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        store: Type.Literal('redis'),
        url: Type.Optional(Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis URL; use ${env:REDIS_URL} for credentials.' })),
        key_prefix: Type.Optional(Type.String({ default: 'sluice:checkpoint:' })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Where positions are checkpointed.', default: { store: 'file', path: '.sluice/checkpoints' } },
);

type Filled<T> = T extends unknown ? Required<T> : never;
/** A checkpoint config after defaults are filled. */
export type CheckpointConfig = Filled<Static<typeof CheckpointConfigSchema>>;
