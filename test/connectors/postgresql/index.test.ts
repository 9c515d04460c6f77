import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncrementalSource } from '../../../src/connectors/postgresql/incremental.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/connectors/postgresql/index.js';
import { config, createDatabase, readContext, sql } from './pg-helpers.js';

describe('postgresql connector registration', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    db = await createDatabase('sluice_pgreg');
    await sql(db.url, 'create table events (id int primary key, at timestamptz)');
  });
  afterAll(async () => db?.drop());

  it('creates the source of each mode and says which are unbounded', () => {
    const definition = registry.getConnector('postgresql')!;
    const source = definition.createSource!(config({ url: db.url, mode: 'incremental', table: 'events', cursor_column: 'at' }), {
      node: 'n',
      logger: readContext().logger,
    });
    expect(source).toBeInstanceOf(IncrementalSource);
    expect(definition.unbounded!(config({ mode: 'cdc' }))).toBe(true);
    expect(definition.unbounded!(config({ mode: 'incremental', poll_interval_ms: 1000 }))).toBe(true);
    expect(definition.unbounded!(config({ mode: 'query' }))).toBe(false);
  });

  it('checks that the server answers and, for CDC, decodes logically', async () => {
    const definition = registry.getConnector('postgresql')!;
    await expect(definition.check!(config({ url: db.url, mode: 'cdc' }))).resolves.toBeUndefined();
    await expect(definition.check!(config({ url: db.url.replace(/\/[^/]+$/, '/sluice_no_such_db') }))).rejects.toMatchObject({
      code: 'SLUICE_CONNECTION_FAILED',
    });
  });
});
