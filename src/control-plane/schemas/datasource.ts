import { Type } from '@sinclair/typebox';
import { JsonObject, Name } from './common.js';

export const ConnectBody = Type.Object(
  {
    name: { ...Name, description: 'Name steps and data operations refer to.' },
    type: Type.String({ minLength: 1, maxLength: 64, description: 'Connector type: postgresql, file, kafka, ...' }),
    config: Type.Optional({ ...JsonObject, description: "The connector's config; secrets are sealed at rest and never returned." }),
    connection_config: Type.Optional({ ...JsonObject, description: 'Alias of `config` (the seed API reference uses this name).' }),
    test_connection: Type.Boolean({ default: true, description: 'Check the connection before storing.' }),
  },
  { additionalProperties: false },
);

export const DatasourceView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  config: JsonObject,
  secret_fields: Type.Array(Type.String()),
  health: Type.Optional(Type.Object({ status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy'), Type.Literal('unknown')]), error: Type.Optional(Type.String()) })),
  created_at: Type.String(),
  updated_at: Type.String(),
});
