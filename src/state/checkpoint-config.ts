import { Type, type Static } from '@sinclair/typebox';

const DEFAULT_PATH = '.sluice/checkpoints';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_KEY_PREFIX = 'sluice:checkpoint:';

// Defaults of union branches are filled by `withCheckpointDefaults`, not by schema `default`s:
// filling a union would copy the first branch's defaults into every other branch.
export const CheckpointConfigSchema = Type.Union(
  [
    Type.Object(
      {
        store: Type.Literal('file', { description: 'Embedded store: JSON files in a directory (no service needed).' }),
        path: Type.Optional(Type.String({ description: `Directory of the checkpoint files (default \`${DEFAULT_PATH}\`).` })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        store: Type.Literal('redis'),
        url: Type.Optional(
          Type.String({ description: `Redis URL (default \`${DEFAULT_REDIS_URL}\`); use \${env:REDIS_URL} for credentials.` }),
        ),
        key_prefix: Type.Optional(Type.String({ description: `Prefix of the Redis hash keys (default \`${DEFAULT_KEY_PREFIX}\`).` })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Where positions are checkpointed.' },
);

type Filled<T> = T extends unknown ? Required<T> : never;
/** A checkpoint config after defaults are filled. */
export type CheckpointConfig = Filled<Static<typeof CheckpointConfigSchema>>;

export function withCheckpointDefaults(config: Static<typeof CheckpointConfigSchema> | undefined): CheckpointConfig {
  if (config?.store === 'redis')
    return { store: 'redis', url: config.url ?? DEFAULT_REDIS_URL, key_prefix: config.key_prefix ?? DEFAULT_KEY_PREFIX };
  return { store: 'file', path: config?.path ?? DEFAULT_PATH };
}
