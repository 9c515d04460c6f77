import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSchemaRegistry, type RunningSchemaRegistry } from '../../../../src/connectors/kafka/schema-registry/start-schema-registry.js';
import { BROKERS, silent, uniqueName, withAdmin } from '../kafka-helpers.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function record(name: string, fields: Array<Record<string, unknown>>): string {
  return JSON.stringify({ type: 'record', name, namespace: 'test', fields });
}

const userV1 = record('User', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
]);
const userV2 = record('User', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
  { name: 'email', type: ['null', 'string'], default: null },
]);
/** A new field without a default: new readers cannot read old data. */
const userRequiredAge = record('User', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int' },
]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- registry JSON, checked field by field below
type RegistryJson = any;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; type: string | null; json: RegistryJson }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': CONTENT_TYPE },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), json: text ? JSON.parse(text) : undefined };
}

describe('Confluent-compatible schema registry API', () => {
  const topic = uniqueName('_schemas-test');
  let registry: RunningSchemaRegistry;
  let client: SchemaRegistry;

  beforeAll(async () => {
    registry = await startSchemaRegistry({ brokers: BROKERS, port: 0, topic, logger: silent });
    client = new SchemaRegistry({ host: registry.url });
  });

  afterAll(async () => {
    await registry?.close();
    await withAdmin((admin) => admin.deleteTopics({ topics: [topic] }));
  });

  it('registers through the official client, serves schemas by id and encodes/decodes with them', async () => {
    const { id } = await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'users-value' });
    expect(await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'users-value' })).toEqual({ id });
    // The same schema under another subject keeps its global id.
    expect((await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'people-value' })).id).toBe(id);

    const encoded = await client.encode(id, { id: 7, name: 'ada' });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(await new SchemaRegistry({ host: registry.url }).decode(encoded)).toEqual({ id: 7, name: 'ada' });

    const byId = await call(registry.url, 'GET', `/schemas/ids/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.type).toBe(CONTENT_TYPE);
    expect(JSON.parse(byId.json.schema)).toMatchObject({ type: 'record', name: 'User', namespace: 'test' });
    expect((await call(registry.url, 'GET', '/subjects')).json).toEqual(expect.arrayContaining(['people-value', 'users-value']));
    expect((await call(registry.url, 'POST', '/subjects/users-value', { schema: userV1 })).json).toMatchObject({
      subject: 'users-value',
      version: 1,
      id,
    });
  });

  it('adds a version for a compatible change and refuses an incompatible one with 409', async () => {
    const v1 = await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'evolve-value' });
    const v2 = await client.register({ type: SchemaType.AVRO, schema: userV2 }, { subject: 'evolve-value' });
    expect(v2.id).not.toBe(v1.id);
    expect((await call(registry.url, 'GET', '/subjects/evolve-value/versions')).json).toEqual([1, 2]);
    expect((await call(registry.url, 'GET', '/subjects/evolve-value/versions/latest')).json).toMatchObject({ version: 2, id: v2.id });

    const check = await call(registry.url, 'POST', '/compatibility/subjects/evolve-value/versions/latest?verbose=true', {
      schema: userRequiredAge,
    });
    expect(check.json.is_compatible).toBe(false);
    expect(check.json.messages.join(' ')).toContain('age');
    expect((await call(registry.url, 'POST', '/compatibility/subjects/evolve-value/versions/1', { schema: userV2 })).json).toEqual({
      is_compatible: true,
    });

    const refused = await call(registry.url, 'POST', '/subjects/evolve-value/versions', { schema: userRequiredAge });
    expect(refused.status).toBe(409);
    expect(refused.json.error_code).toBe(409);
    expect(refused.json.message).toContain('age');
    await expect(client.register({ type: SchemaType.AVRO, schema: userRequiredAge }, { subject: 'evolve-value' })).rejects.toMatchObject({
      status: 409,
    });
    expect((await call(registry.url, 'GET', '/subjects/evolve-value/versions')).json).toEqual([1, 2]);
  });

  it('computes FORWARD, FULL and the transitive levels per subject', async () => {
    const level = async (subject: string, compatibility: string) =>
      expect((await call(registry.url, 'PUT', `/config/${subject}`, { compatibility })).json).toEqual({ compatibility });
    const register = (subject: string, schema: string) => call(registry.url, 'POST', `/subjects/${subject}/versions`, { schema });

    // FORWARD: old readers must read new data, so a required field may be added...
    await level('fwd', 'FORWARD');
    expect((await register('fwd', userV1)).status).toBe(200);
    expect((await register('fwd', userRequiredAge)).status).toBe(200);
    // ...but not removed again without a default for old readers.
    expect((await register('fwd', userV1)).status).toBe(200);
    expect((await register('fwd', record('User', [{ name: 'id', type: 'long' }]))).status).toBe(409);

    // FULL: both directions, so the required field is refused.
    await level('full', 'FULL');
    await register('full', userV1);
    expect((await register('full', userRequiredAge)).status).toBe(409);
    expect((await register('full', userV2)).status).toBe(200);

    // x:int, then x removed, then x:string with a default: fine against the latest only, not against all.
    const x1 = record('R', [
      { name: 'k', type: 'long' },
      { name: 'x', type: 'int' },
    ]);
    const x2 = record('R', [{ name: 'k', type: 'long' }]);
    const x3 = record('R', [
      { name: 'k', type: 'long' },
      { name: 'x', type: 'string', default: '' },
    ]);
    for (const [subject, compatibility, expected] of [
      ['back', 'BACKWARD', 200],
      ['back-transitive', 'BACKWARD_TRANSITIVE', 409],
    ] as const) {
      await level(subject, compatibility);
      expect((await register(subject, x1)).status).toBe(200);
      expect((await register(subject, x2)).status).toBe(200);
      expect((await register(subject, x3)).status).toBe(expected);
    }
    expect((await call(registry.url, 'GET', '/config/back-transitive')).json).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });
  });

  it('answers with Confluent error codes', async () => {
    await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'errors-value' });
    const cases: Array<[string, string, unknown, number, number]> = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/errors-value/versions/9', undefined, 404, 40402],
      ['GET', '/subjects/errors-value/versions/zero', undefined, 422, 42202],
      ['GET', '/schemas/ids/999999', undefined, 404, 40403],
      ['POST', '/subjects/errors-value', { schema: userV2 }, 404, 40403],
      ['POST', '/subjects/errors-value/versions', { schema: '{"type":"record","name":"X"}' }, 422, 42201],
      ['POST', '/subjects/errors-value/versions', { schema: 'not json' }, 422, 42201],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['GET', '/config/no-config-value', undefined, 404, 40408],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await call(registry.url, method, path, body);
      expect({ path, status: answer.status, code: answer.json.error_code, type: answer.type }).toEqual({
        path,
        status,
        code,
        type: CONTENT_TYPE,
      });
    }
  });

  it('deletes versions and subjects softly, then permanently', async () => {
    const { id } = await client.register({ type: SchemaType.AVRO, schema: userV1 }, { subject: 'gone-value' });
    await client.register({ type: SchemaType.AVRO, schema: userV2 }, { subject: 'gone-value' });
    expect((await call(registry.url, 'DELETE', '/subjects/gone-value/versions/2')).json).toBe(2);
    expect((await call(registry.url, 'GET', '/subjects/gone-value/versions')).json).toEqual([1]);
    expect((await call(registry.url, 'DELETE', '/subjects/gone-value?permanent=true')).json.error_code).toBe(40405);
    expect((await call(registry.url, 'DELETE', '/subjects/gone-value')).json).toEqual([1]);
    expect((await call(registry.url, 'GET', '/subjects')).json).not.toContain('gone-value');
    expect((await call(registry.url, 'GET', '/subjects?deleted=true')).json).toContain('gone-value');
    // Ids stay resolvable: data written with them must stay readable.
    expect((await call(registry.url, 'GET', `/schemas/ids/${id}`)).status).toBe(200);
    expect((await call(registry.url, 'DELETE', '/subjects/gone-value?permanent=true')).json).toEqual([1, 2]);
    expect((await call(registry.url, 'GET', '/subjects?deleted=true')).json).not.toContain('gone-value');
  });

  it('keeps subjects, versions, ids and config across a restart (replayed from the topic)', async () => {
    const before = await client.register({ type: SchemaType.AVRO, schema: userV2 }, { subject: 'durable-value' });
    expect((await call(registry.url, 'PUT', '/config', { compatibility: 'FULL' })).status).toBe(200);
    const subjects = (await call(registry.url, 'GET', '/subjects')).json;
    await registry.close();

    registry = await startSchemaRegistry({ brokers: BROKERS, port: 0, topic, logger: silent });
    expect((await call(registry.url, 'GET', '/subjects')).json).toEqual(subjects);
    expect((await call(registry.url, 'GET', '/subjects/durable-value/versions/1')).json).toMatchObject({ id: before.id });
    expect((await call(registry.url, 'GET', '/config')).json).toEqual({ compatibilityLevel: 'FULL' });
    const fresh = await call(registry.url, 'POST', '/subjects/other-value/versions', {
      schema: record('Other', [{ name: 'a', type: 'int' }]),
    });
    // Ids are never reused: the new schema gets an id above every earlier one.
    expect(fresh.json.id).toBeGreaterThan(before.id);
    await call(registry.url, 'PUT', '/config', { compatibility: 'BACKWARD' });
  });
});
