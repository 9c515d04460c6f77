import { describe, expect, it } from 'vitest';
import '../../src/register-all.js';
import { SluiceError } from '../../src/core/errors.js';
import { loadSinkConfig } from '../../src/pipeline/steps/connector-configs.js';
import { compileRule, requireSyncCapabilities } from '../../src/sync/compile-rule.js';
import { compileTopology } from '../../src/topology/compile.js';
import { parseSyncRule, type SyncRule } from '../../src/sync/rule-schema.js';

const DATASOURCES: Record<string, { type: string; config: Record<string, unknown> }> = {
  files: { type: 'file', config: { path: '/data/in.ndjson' } },
  events: { type: 'kafka', config: { brokers: ['127.0.0.1:9092'], topics: ['events'] } },
  table: { type: 'postgresql', config: { url: 'postgres://127.0.0.1/db', table: 'policies' } },
  report: { type: 'postgresql', config: { url: 'postgres://127.0.0.1/db', query: 'select * from policies' } },
};
const options = {
  resolve: async (name: string) => DATASOURCES[name],
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: 'p:',
  countersKey: 'c',
};
const rule = (fields: Partial<SyncRule>): SyncRule =>
  parseSyncRule({ rule_id: 'r1', name: 'r1', source: 'table', target: 'table', ...fields }, 'rule');

async function refusal(promise: Promise<unknown>): Promise<{ code: string; issues: unknown }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return { code: (error as SluiceError).code, issues: (error as SluiceError).issues };
}

describe('connector capabilities in sync rules and load steps', () => {
  it('refuses a cdc or incremental rule whose source does not declare that mode, naming the field', async () => {
    expect(await refusal(compileRule(rule({ source: 'files', mode: 'cdc' }), options))).toEqual({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'rule.mode', message: "connector 'file' cannot do cdc" }],
    });
    const incremental = rule({ source: 'events', mode: 'incremental', filters: { timestamp_column: 'ts' } });
    expect(await refusal(compileRule(incremental, options))).toEqual({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'rule.mode', message: "connector 'kafka' cannot do incremental" }],
    });
  });

  it('refuses a bidirectional rule with an end that cannot be one', () => {
    expect(() => requireSyncCapabilities(rule({ target: 'files', bidirectional: true }), 'target', 'file', 'body')).toThrow(
      expect.objectContaining({ issues: [{ path: 'body.target', message: "connector 'file' cannot do bidirectional sync" }] }),
    );
    expect(() => requireSyncCapabilities(rule({ bidirectional: true }), 'target', 'postgresql')).not.toThrow();
  });

  it('pushes a full sync of a table down to the source connector, and reads a query as rows', async () => {
    const table = await compileRule(rule({ mode: 'full', filters: { primary_key: ['id'] } }), options);
    expect(table.nodes.source).toMatchObject({
      type: 'sync_postgresql',
      config: { source: { table: 'policies', mode: 'query', key: ['id'] } },
    });
    expect(table.nodes.target.config).toMatchObject({ track_deletes: false });
    const query = await compileRule(rule({ source: 'report', mode: 'snapshot' }), options);
    expect(query.nodes.source).toMatchObject({ type: 'postgresql', config: { query: 'select * from policies', mode: 'query' } });
    expect(query.nodes.target.config).toMatchObject({ track_deletes: true });
  });

  it('shapes a cdc source config through the connector hook', async () => {
    const cdc = await compileRule(rule({ mode: 'cdc' }), options);
    expect(cdc.nodes.source).toMatchObject({
      type: 'postgresql',
      config: { mode: 'cdc', slot: 'sluice_sync_r1', publication: 'sluice_sync_r1', tables: ['policies'] },
    });
  });

  it('refuses an upsert load into a connector without upsert_sink at the step mode', async () => {
    const refused = await refusal(loadSinkConfig(DATASOURCES.files, { mode: 'upsert' } as never, 'body.steps[2].config'));
    expect(refused).toEqual({
      code: 'SLUICE_CONFIG_INVALID',
      issues: [{ path: 'body.steps[2].config.mode', message: "connector 'file' cannot do upsert" }],
    });
    await expect(loadSinkConfig(DATASOURCES.table, { mode: 'upsert' } as never)).resolves.toMatchObject({
      table: 'policies',
      write_mode: 'upsert',
    });
  });
});

describe('the sync hash push-down source', () => {
  it('is refused by compile, not by its constructor, when its config names no table', () => {
    const spec = {
      name: 'hash_without_table',
      nodes: {
        source: {
          type: 'sync_postgresql',
          config: { rule_id: 'r1', counters_key: 'c', source: { url: 'postgres://127.0.0.1/db', query: 'select 1' } },
        },
        out: { type: 'file', inputs: ['source'], config: { path: '/tmp/out.ndjson' } },
      },
    };
    expect(() => compileTopology(spec as never)).toThrow(
      expect.objectContaining({
        code: 'SLUICE_TOPOLOGY_INVALID',
        issues: [{ path: 'nodes.source.config.source.table', message: 'a sync hash source reads a table' }],
      }),
    );
  });
});
