import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'apache-arrow';
import { QuerySource } from '../../../src/connectors/postgresql/source.js';
import { PostgresSink } from '../../../src/connectors/postgresql/sink.js';
import { CdcSource } from '../../../src/connectors/postgresql/cdc/cdc-source.js';
import { parseLsn } from '../../../src/connectors/postgresql/cdc/lsn.js';
import { config, createDatabase, readAll, silent, sql } from './pg-helpers.js';
import { Pipeline } from './cdc-driver.js';

const DDL = `
  create type mood as enum ('sad', 'ok', 'happy');
  create table all_types (
    id int4 primary key, i2 int2, i8 int8, num numeric, num_scaled numeric(30,10), f4 float4, f8 float8, b bool,
    t text, u uuid, d date, ts timestamp, tstz timestamptz, j json, jb jsonb, ai int4[], at text[], by bytea, m mood
  )`;

const ROWS = `
  insert into all_types values
  (1, -32768, 9223372036854775807, 12345678901234567890.123456789012345, 1.0000000001, 3.4028235e38, 1.7976931348623157e308, true,
   'héllo ✓ 漢字 🚀, "quoted" \\ back\\slash tab	nl
line', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '2024-02-29 23:59:59.123456', '1999-12-31 23:00:00.000001+02',
   '{"b": [1, 2.50], "a": "x"}', '{"b": [1, 2.50], "a": "x"}', '{1,NULL,3}', '{"a,b","c\\"d",NULL,"NULL",""}', '\\x00ff10', 'happy'),
  (2, 0, -9223372036854775808, -0.000000000000000001, 'NaN', 'NaN', '-Infinity', false,
   '', '00000000-0000-0000-0000-000000000000', '0044-03-15 BC', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00+00',
   'null', '[]', '{}', '{}', '\\x', 'sad'),
  (3, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`;

describe('postgresql type mapping', () => {
  let source: Awaited<ReturnType<typeof createDatabase>>;
  let target: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    source = await createDatabase('sluice_types_src');
    target = await createDatabase('sluice_types_dst');
    await sql(source.url, DDL);
    await sql(source.url, ROWS);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('maps each type to its Arrow type without losing precision', async () => {
    const batches = await readAll(
      new QuerySource(config({ url: source.url, query: 'select * from all_types where id = $1', params: [1] })),
      'query',
    );
    expect(batches).toHaveLength(1);
    const data = batches[0].data;
    const typeOf = (name: string) => data.schema.fields.find((f) => f.name === name)!.type.typeId;
    expect([typeOf('i2'), typeOf('i8'), typeOf('f4'), typeOf('b'), typeOf('d'), typeOf('ts'), typeOf('by'), typeOf('ai')]).toEqual([
      Type.Int,
      Type.Int,
      Type.Float,
      Type.Bool,
      Type.Date,
      Type.Timestamp,
      Type.Binary,
      Type.List,
    ]);
    expect(data.getChild('i8')!.get(0)).toBe(9223372036854775807n);
    expect(data.getChild('num')!.get(0)).toBe('12345678901234567890.123456789012345');
    expect(data.getChild('u')!.get(0)).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(data.getChild('m')!.get(0)).toBe('happy');
    // Raw microseconds: 2024-02-29 23:59:59.123456 UTC.
    expect(data.getChild('ts')!.data[0].values[0]).toBe(BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)) * 1000n + 123456n);
    expect(data.getChild('tstz')!.data[0].values[0]).toBe(BigInt(Date.UTC(1999, 11, 31, 21, 0, 0)) * 1000n + 1n);
    expect([...data.getChild('ai')!.get(0)!]).toEqual([1, null, 3]);
    expect([...data.getChild('at')!.get(0)!]).toEqual(['a,b', 'c"d', null, 'NULL', '']);
    expect([...(data.getChild('by')!.get(0) as Uint8Array)]).toEqual([0, 255, 16]);
    expect(data.getChild('t')!.get(0)).toContain('🚀');
  });

  it('round-trips every type, NULLs and unicode through the sink unchanged', async () => {
    await sql(target.url, DDL);
    const batches = await readAll(new QuerySource(config({ url: source.url, table: 'all_types', batch_size: 2 })), 'all_types');
    expect(batches.map((b) => b.data.numRows)).toEqual([2, 1]);
    const sink = new PostgresSink(config({ url: target.url, table: 'all_types' }));
    await sink.open({ resuming: false, logger: silent });
    for (const batch of batches) await sink.write(batch);
    await sink.close();
    const dump = 'select id, row_to_json(a)::text as row from all_types a order by id';
    const expected = await sql(source.url, dump);
    expect(expected).toHaveLength(3);
    expect(await sql(target.url, dump)).toEqual(expected);
  });

  it('creates a table from the batch schema with the source column types', async () => {
    const batches = await readAll(new QuerySource(config({ url: source.url, table: 'all_types' })), 'all_types');
    const sink = new PostgresSink(config({ url: target.url, table: 'created', create_table: true, write_mode: 'upsert' }));
    await sink.open({ resuming: false, logger: silent });
    await sink.write(batches[0]);
    await sink.write(batches[0]);
    await sink.close();
    const types = await sql<{ attname: string; type: string }>(
      target.url,
      `select attname, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'created'::regclass and attnum > 0 order by attnum`,
    );
    expect(Object.fromEntries(types.map((t) => [t.attname, t.type]))).toMatchObject({
      id: 'integer',
      i8: 'bigint',
      num: 'numeric',
      f4: 'real',
      b: 'boolean',
      u: 'uuid',
      d: 'date',
      ts: 'timestamp without time zone',
      tstz: 'timestamp with time zone',
      jb: 'jsonb',
      ai: 'integer[]',
      at: 'text[]',
      by: 'bytea',
      m: 'text',
    });
    const compare = `select id, num::text, ts::text, tstz::text, jb::text, ai::text, by::text, t from %s order by id`;
    expect(await sql(target.url, compare.replace('%s', 'created'))).toEqual(await sql(source.url, compare.replace('%s', 'all_types')));
  });

  it('round-trips every type through CDC: snapshot (COPY text) and stream (pgoutput text)', async () => {
    await sql(target.url, 'create table cdc_types (like all_types including all)');
    await sql(source.url, 'create table cdc_types (like all_types including all); insert into cdc_types select * from all_types');
    const sink = new PostgresSink(config({ url: target.url, table: 'cdc_types' }));
    await sink.open({ resuming: false, logger: silent });
    const pipe = new Pipeline(
      new CdcSource(
        config({ url: source.url, mode: 'cdc', slot: 'types', publication: 'types', tables: ['cdc_types'], heartbeat_ms: 200 }),
      ),
      sink,
    );
    await pipe.waitFor(1n);
    await sql(
      source.url,
      'insert into cdc_types select id + 10, i2, i8, num, num_scaled, f4, f8, b, t, u, d, ts, tstz, j, jb, ai, at, by, m from all_types',
    );
    const [{ lsn }] = await sql<{ lsn: string }>(source.url, 'select pg_current_wal_lsn()::text as lsn');
    await pipe.waitFor(parseLsn(lsn));
    await pipe.stop();
    const dump = 'select id, row_to_json(a)::text as row from cdc_types a order by id';
    const expected = await sql(source.url, dump);
    expect(expected).toHaveLength(6);
    expect(await sql(target.url, dump)).toEqual(expected);
  });
});
