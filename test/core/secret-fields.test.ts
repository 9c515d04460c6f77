import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { KafkaConfigSchema } from '../../src/connectors/kafka/config.js';
import { postgresConfigSchema } from '../../src/connectors/postgresql/config.js';
import { scanSecrets } from '../../src/core/secret-fields.js';
import { redactSecrets, rememberConfigSecrets } from '../../src/core/secrets.js';
import { CheckpointConfigSchema } from '../../src/state/checkpoint-config.js';

const Schema = Type.Object({
  // Named like nothing secret, annotated secret: withheld.
  opaque: Type.Optional(Type.String({ secret: true })),
  // Named like a secret, not annotated: shown (the annotation decides, not the name).
  token_count: Type.Optional(Type.Integer()),
  password_hint: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  nested: Type.Optional(Type.Object({ salt: Type.String({ secret: true }), region: Type.String() })),
  replicas: Type.Optional(
    Type.Array(
      Type.Object({ host: Type.String(), credential: Type.Object({ user: Type.String(), pin: Type.Integer() }, { secret: true }) }),
    ),
  ),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ secret: true }))),
});

describe('scanSecrets: the schema annotation decides what is secret', () => {
  it('withholds annotated fields at any depth, masks URL credentials, and shows the rest', () => {
    const config = {
      opaque: 'Opaque-Secret-1',
      token_count: 3,
      password_hint: 'the usual',
      url: 'postgres://app:Url-Secret-2@db.example/x',
      nested: { salt: 'Salt-Secret-3', region: 'eu' },
      replicas: [{ host: 'r1', credential: { user: 'ro', pin: 987654 } }],
      headers: { 'x-api-key': 'Header-Secret-4' },
      unknown: 'redis://:Unknown-Secret-5@cache:6379',
    };
    const scan = scanSecrets(Schema, config);
    expect(scan.masked).toEqual({
      token_count: 3,
      password_hint: 'the usual',
      url: 'postgres://app@db.example/x',
      nested: { region: 'eu' },
      replicas: [{ host: 'r1' }],
      headers: {},
      unknown: 'redis://cache:6379',
    });
    expect(scan.fields).toEqual([
      'opaque',
      'url (password)',
      'nested.salt',
      'replicas[0].credential',
      'headers.x-api-key',
      'unknown (password)',
    ]);
    expect(scan.values).toEqual(
      expect.arrayContaining(['Opaque-Secret-1', 'Url-Secret-2', 'Salt-Secret-3', 'ro', '987654', 'Header-Secret-4', 'Unknown-Secret-5']),
    );
    expect(config.opaque).toBe('Opaque-Secret-1');
  });

  it('marks the secrets of the connector schemas: postgresql password, kafka SASL and schema registry passwords', () => {
    const pg = scanSecrets(postgresConfigSchema, { host: 'db', user: 'app', password: 'Pg-Secret', database: 'x' });
    expect(pg.masked).toEqual({ host: 'db', user: 'app', database: 'x' });
    expect(pg.fields).toEqual(['password']);
    const kafka = scanSecrets(KafkaConfigSchema, {
      brokers: ['k:9092'],
      sasl: { mechanism: 'plain', username: 'svc', password: 'Sasl-Secret' },
      schema_registry: { url: 'https://registry.example', auth: { username: 'r', password: 'Registry-Secret' } },
    });
    expect(kafka.fields).toEqual(['sasl.password', 'schema_registry.auth.password']);
    expect(JSON.stringify(kafka.masked)).not.toMatch(/Secret/);
  });

  it('walks union schemas (the checkpoint store): a Redis URL password is masked', () => {
    const scan = scanSecrets(CheckpointConfigSchema, {
      store: 'redis',
      url: 'redis://default:Redis-Secret@cache.example:6379/2',
      key_prefix: 'p:',
    });
    expect(scan.masked).toEqual({ store: 'redis', url: 'redis://default@cache.example:6379/2', key_prefix: 'p:' });
    expect(scan.fields).toEqual(['url (password)']);
  });

  it('without a schema, still masks credentials inside strings', () => {
    const scan = scanSecrets(undefined, {
      dsn: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Azure-Secret==',
      list: ['https://h/?sig=Sig-Secret'],
    });
    expect(scan.masked).toEqual({ dsn: 'DefaultEndpointsProtocol=https;AccountName=a', list: ['https://h/'] });
    expect(scan.fields).toEqual(['dsn (AccountKey)', 'list[0] (query sig)']);
  });
});

describe('rememberConfigSecrets: log redaction follows the same annotation', () => {
  it('redacts annotated values and URL passwords, as written and decoded, in later output', () => {
    rememberConfigSecrets(Schema, { opaque: 'Opaque-Log-Secret', url: 'postgres://app:p%40ss-Log@db/x', password_hint: 'Hint-Not-Secret' });
    const line = redactSecrets('failed: Opaque-Log-Secret; auth p@ss-Log / p%40ss-Log; hint Hint-Not-Secret');
    expect(line).toBe('failed: [redacted]; auth [redacted] / [redacted]; hint Hint-Not-Secret');
  });
});
