import { Type, type TSchema } from '@sinclair/typebox';
import { JsonObject, Name } from './common.js';

const CONFIG_DESCRIPTION = "The connector's config; secrets are sealed at rest and never returned.";
const ALIAS_DESCRIPTION = 'Alias of `config` (the seed API reference uses this name).';

const connectFields = <T extends TSchema, C extends TSchema>(type: T, config: C) => ({
  name: { ...Name, description: 'Name steps and data operations refer to.' },
  type,
  config: Type.Optional({ ...config, description: CONFIG_DESCRIPTION }),
  connection_config: Type.Optional({ ...config, description: ALIAS_DESCRIPTION }),
  test_connection: Type.Boolean({ default: true, description: 'Check the connection before storing.' }),
});

/**
 * What fastify checks of a connect request: its shape. The config is then checked against the
 * schema and rules of the type it names, with the path of every offending field.
 */
export const ConnectBody = Type.Object(connectFields(Type.String({ minLength: 1, maxLength: 64, description: 'Connector type: postgresql, file, kafka, ...' }), JsonObject), { additionalProperties: false });

/** The connect request as OpenAPI shows it: one body per connector type, discriminated by `type`, with that type's config schema. */
export function connectBodyOf(configs: [type: string, schema: TSchema][]): TSchema {
  return Type.Union(
    configs.map(([type, schema]) => Type.Object(connectFields(Type.Literal(type), schema), { additionalProperties: false, title: `Connect ${type}` })),
    { discriminator: { propertyName: 'type' } },
  );
}

export const DatasourceView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  config: JsonObject,
  secret_fields: Type.Array(Type.String()),
  health: Type.Optional(Type.Object({ status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy'), Type.Literal('unknown')]), error: Type.Optional(Type.String()) })),
  created_at: Type.String(),
  updated_at: Type.String(),
});
