import { Type } from '@sinclair/typebox';
import { parseDatasourceConfig } from '../../../core/definition-config.js';
import { SluiceError, errorMessage } from '../../../core/errors.js';
import { registry } from '../../../core/registry.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { ConnectBody, DatasourceView, connectBodyOf } from '../../schemas/datasource.js';
import { errors } from '../../schemas/common.js';
import type { DatasourceRecord } from '../../state/datasource-repository.js';
import { datasourceSecrets } from '../../state/secret-fields.js';
import { checkConnection } from './check-connection.js';
import { stepOutputConnector } from '../../../pipeline/step-output.js';

type Health = { status: 'healthy' | 'unhealthy' | 'unknown'; error?: string };

/** What a client sees of a datasource: its config masked afresh from the sealed one, so a row stored before a masking rule existed never shows more. */
function view(record: DatasourceRecord, config: Record<string, unknown>, health?: Health) {
  const secrets = datasourceSecrets(record.type, config);
  return {
    name: record.name,
    type: record.type,
    config: secrets.masked,
    secret_fields: secrets.fields,
    created_at: record.created_at,
    updated_at: record.updated_at,
    ...(health ? { health } : {}),
  };
}

/** The connector types a datasource may have: every registered one but the pipeline's own step output. */
function datasourceTypes(): string[] {
  return registry.connectorTypes().filter((t) => t !== stepOutputConnector.type);
}

/** Datasources: connect (tested, secrets sealed), list with health, get, disconnect. */
export async function datasourceRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  app.post(
    '/datasources/connect',
    {
      config: {
        access: 'admin',
        storesEnvRefs: true,
        // Documented per type (read when /openapi.json is built, once every connector registered itself).
        swaggerTransform: ({ schema, url }) => ({
          url,
          schema: { ...schema, body: connectBodyOf(datasourceTypes().map((t) => [t, registry.getConnector(t)!.configSchema])) },
        }),
      },
      schema: {
        tags: ['datasources'],
        summary: 'Connect a datasource (tests the connection first)',
        body: ConnectBody,
        response: { 201: DatasourceView, ...errors(422) },
      },
    },
    async (request, reply) => {
      const { name, type, test_connection } = request.body;
      const config = request.body.config ?? request.body.connection_config ?? {};
      const connector = datasourceTypes().includes(type) ? registry.getConnector(type) : undefined;
      if (!connector) {
        throw new SluiceError('SLUICE_UNKNOWN_TYPE', `unknown datasource type '${type}'`, {
          issues: [{ path: 'body.type', message: `unknown type (known: ${datasourceTypes().join(', ')})` }],
        });
      }
      parseDatasourceConfig(connector, config, request.body.config ? 'body.config' : 'body.connection_config');
      const tested = test_connection ? await checkConnection(type, config) : false;
      const record = await cp.state.datasources.upsert(name, type, config);
      await request.audit('datasource.connect', `datasource:${name}`, { type, tested });
      const health: Health = tested ? { status: 'healthy' } : { status: 'unknown' };
      return reply.status(201).send(view(record, config, health));
    },
  );

  app.get(
    '/datasources',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['datasources'],
        summary: 'List connected datasources with their health',
        response: { 200: Type.Object({ datasources: Type.Array(DatasourceView) }), ...errors() },
      },
    },
    async () => {
      const records = await cp.state.datasources.list();
      const datasources = await Promise.all(
        records.map(async (record) => {
          const { type, config } = await cp.state.datasources.resolve(record.name);
          let health: Health;
          try {
            health = (await checkConnection(type, config)) ? { status: 'healthy' } : { status: 'unknown' };
          } catch (error) {
            health = { status: 'unhealthy', error: errorMessage(error) };
          }
          return view(record, config, health);
        }),
      );
      return { datasources };
    },
  );

  app.get(
    '/datasources/:name',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['datasources'],
        summary: 'One datasource (without secrets)',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: DatasourceView, ...errors(404) },
      },
    },
    async (request) => {
      const record = await cp.state.datasources.get(request.params.name);
      if (!record) throw notFound(request.params.name);
      const { config } = await cp.state.datasources.resolve(record.name);
      return view(record, config);
    },
  );

  app.delete(
    '/datasources/:name',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['datasources'],
        summary: 'Disconnect a datasource',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Type.Object({ disconnected: Type.String() }), ...errors(404) },
      },
    },
    async (request) => {
      if (!(await cp.state.datasources.delete(request.params.name))) throw notFound(request.params.name);
      await request.audit('datasource.disconnect', `datasource:${request.params.name}`);
      return { disconnected: request.params.name };
    },
  );
}

function notFound(name: string): SluiceError {
  return new SluiceError('SLUICE_NOT_FOUND', `no datasource '${name}'`, {
    issues: [{ path: 'params.name', message: 'datasource not found' }],
  });
}
