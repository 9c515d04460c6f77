import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { isCompatibilityLevel } from './compatibility.js';
import { REGISTRY_ERRORS, RegistryError } from './registry-error.js';
import { canonical, type SchemaStore, type SchemaVersion } from './schema-store.js';

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface SchemaBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

interface Subject {
  Params: { subject: string };
  Querystring: { deleted?: string; permanent?: string; defaultToGlobal?: string };
}

interface SubjectVersion {
  Params: { subject: string; version: string };
  Querystring: { deleted?: string; permanent?: string; verbose?: string };
}

/**
 * A Confluent-compatible Schema Registry REST API (Avro schemas) over a `SchemaStore`: subjects,
 * versions, schemas by id, lookup, deletes, global and per-subject compatibility config and
 * compatibility checks. Answers use `application/vnd.schemaregistry.v1+json` and Confluent's
 * error bodies (`{ error_code, message }`), so Confluent's clients and serializers work unchanged.
 */
export function buildRegistryApp(store: SchemaStore, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger.child({ component: 'schema-registry' }) as FastifyBaseLogger });
  app.addContentTypeParser(
    /^application\/(vnd\.schemaregistry(\.v1)?\+json|octet-stream)/,
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'ignore'),
  );
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-type', REGISTRY_CONTENT_TYPE);
    return payload;
  });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof RegistryError) return send(reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return reply.status(status).send({ error_code: status, message: (error as Error).message });
    logger.error({ err: error }, 'schema registry request failed');
    return reply.status(500).send({ error_code: REGISTRY_ERRORS.storeError, message: 'Error in the backend data store' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error_code: 404, message: `HTTP 404 Not Found: ${request.method} ${request.url}` }),
  );

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['AVRO']);

  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (request) => ({ schema: store.schemaById(Number(request.params.id)) }));

  app.get<{ Params: { id: string } }>('/schemas/ids/:id/versions', async (request) => {
    const id = Number(request.params.id);
    store.schemaById(id);
    return store.subjectNames().flatMap((s) =>
      store
        .versions(s)
        .filter((v) => v.id === id)
        .map((v) => ({ subject: s, version: v.version })),
    );
  });

  app.get<Subject>('/subjects', async (request) => store.subjectNames(request.query.deleted === 'true'));

  app.get<Subject>('/subjects/:subject/versions', async (request) =>
    store.versions(request.params.subject, request.query.deleted === 'true').map((v) => v.version),
  );

  app.post<Subject & { Body: SchemaBody }>('/subjects/:subject/versions', async (request) => {
    const version = await store.register(request.params.subject, schemaOf(request.body));
    return { id: version.id };
  });

  app.get<SubjectVersion>('/subjects/:subject/versions/:version', async (request) =>
    versionBody(store.version(request.params.subject, request.params.version, request.query.deleted === 'true')),
  );

  app.get<SubjectVersion>('/subjects/:subject/versions/:version/schema', async (request, reply) =>
    reply.send(store.version(request.params.subject, request.params.version).schema),
  );

  app.post<Subject & { Body: SchemaBody }>('/subjects/:subject', async (request) =>
    versionBody(store.lookup(request.params.subject, schemaOf(request.body))),
  );

  app.delete<Subject>('/subjects/:subject', async (request) =>
    store.deleteSubject(request.params.subject, request.query.permanent === 'true'),
  );

  app.delete<SubjectVersion>('/subjects/:subject/versions/:version', async (request) =>
    store.deleteVersion(request.params.subject, request.params.version, request.query.permanent === 'true'),
  );

  app.get('/config', async () => ({ compatibilityLevel: store.level(null) }));
  app.put<{ Body: { compatibility?: unknown } }>('/config', async (request) => {
    const level = levelOf(request.body);
    await store.setLevel(null, level);
    return { compatibility: level };
  });

  app.get<Subject>('/config/:subject', async (request) => {
    const own = store.subjectLevel(request.params.subject);
    if (own) return { compatibilityLevel: own };
    if (request.query.defaultToGlobal === 'true') return { compatibilityLevel: store.level(null) };
    throw new RegistryError(
      REGISTRY_ERRORS.subjectLevelCompatibilityNotConfigured,
      `Subject '${request.params.subject}' does not have subject-level compatibility configured`,
    );
  });
  app.put<Subject & { Body: { compatibility?: unknown } }>('/config/:subject', async (request) => {
    const level = levelOf(request.body);
    await store.setLevel(request.params.subject, level);
    return { compatibility: level };
  });

  app.post<SubjectVersion & { Body: SchemaBody }>('/compatibility/subjects/:subject/versions/:version', async (request) => {
    const schema = canonical(schemaOf(request.body));
    const { subject, version } = request.params;
    const latest = version === 'latest' || version === '-1';
    // Against `latest` the subject's level decides which versions count (all of them when transitive).
    const problems = latest
      ? store.subjectNames().includes(subject)
        ? store.check(subject, schema)
        : []
      : store.check(subject, schema, store.version(subject, version));
    return request.query.verbose === 'true'
      ? { is_compatible: problems.length === 0, messages: problems }
      : { is_compatible: problems.length === 0 };
  });

  return app;
}

function send(reply: FastifyReply, error: RegistryError): FastifyReply {
  return reply.status(error.status).send({ error_code: error.errorCode, message: error.message });
}

function versionBody(v: SchemaVersion): Record<string, unknown> {
  return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
}

function schemaOf(body: SchemaBody | undefined): string {
  if (body?.schemaType !== undefined && body.schemaType !== 'AVRO') {
    throw new RegistryError(
      REGISTRY_ERRORS.invalidSchema,
      `Invalid schema: schemaType ${String(body.schemaType)} is not supported (only AVRO)`,
    );
  }
  if (Array.isArray(body?.references) && body.references.length > 0) {
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'Invalid schema: schema references are not supported');
  }
  if (typeof body?.schema !== 'string')
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'Invalid schema: the request needs a "schema" string');
  return body.schema;
}

function levelOf(body: { compatibility?: unknown } | undefined): ReturnType<SchemaStore['level']> {
  const level = typeof body?.compatibility === 'string' ? body.compatibility.toUpperCase() : body?.compatibility;
  if (!isCompatibilityLevel(level))
    throw new RegistryError(
      REGISTRY_ERRORS.invalidCompatibilityLevel,
      `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`,
    );
  return level;
}
