import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int64, Utf8 } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/core/batch.js';
import '../../src/connectors/file/index.js';
import { typedBatch } from './expression/helpers.js';
import { loadTable, openDuck, query } from './support/duck.js';
import { randomRows, rng, splitRandomly, SQL_COLUMNS, toArrow } from './support/random-data.js';
import { runTransform } from './support/run.js';

let db: DuckDBConnection;
let dir: string;
beforeAll(async () => {
  db = await openDuck();
  dir = await mkdtemp(join(tmpdir(), 'sluice-enrich-'));
});
afterAll(async () => {
  db?.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const REGIONS = [
  { g: 'eu-west', geo: 'Europe', h: 0, weight: 1.5 },
  { g: 'us-east', geo: 'Americas', h: 1, weight: 2 },
  { g: '😀 zone', geo: 'Emoji', h: 2, weight: 3 },
  { g: 'eu-west', geo: 'Duplicate key: ignored', h: 9, weight: 0 },
];

describe('enrich', () => {
  it('left-joins each batch on a (dictionary, unicode) key like DuckDB, then computes columns', async () => {
    const random = rng(51);
    const rows = randomRows(random, 1200);
    await loadTable(db, 'src', SQL_COLUMNS, rows);
    await loadTable(db, 'ref', { g: 'VARCHAR', geo: 'VARCHAR', h: 'INTEGER', weight: 'DOUBLE' }, REGIONS.slice(0, 3));
    const config = {
      lookups: [{ rows: REGIONS, key: 'g', columns: ['geo', 'weight'], prefix: 'region_' }],
      calculated_columns: {
        weighted: 'x * region_weight',
        label: "case when region_geo is null then 'unknown' else lower(region_geo) end",
      },
    };
    const out = await runTransform('enrich', config, splitRandomly(random, rows).map(toArrow), { unbounded: true });
    const ours = out.flatMap((b) => rowsOf(b.data));
    const theirs = await query(
      db,
      `SELECT s.id, r.geo AS region_geo, r.weight AS region_weight, s.x * r.weight AS weighted, CASE WHEN r.geo IS NULL THEN 'unknown' ELSE lower(r.geo) END AS label
       FROM src s LEFT JOIN ref r ON s.g = r.g ORDER BY s.id`,
    );
    expect(ours.map((r) => [r.id, r.region_geo, r.region_weight, r.label])).toEqual(
      theirs.map((r) => [r.id, r.region_geo, r.region_weight, r.label]),
    );
    ours.forEach((r, i) =>
      expect(Object.is(r.weighted, theirs[i].weighted) || Math.abs((r.weighted as number) - (theirs[i].weighted as number)) < 1e-9).toBe(
        true,
      ),
    );
  });

  it('joins on two columns of different integer widths, and dead-letters or drops rows without a match', async () => {
    const data = typedBatch({
      g: [['eu-west', 'us-east', 'us-east', null], new Utf8()],
      h: [[0n, 1n, 5n, 1n], new Int64()],
      v: [[1, 2, 3, 4], new Float64()],
    });
    const lookup = { rows: REGIONS, key: ['g', 'h'], columns: ['geo'], name: 'region' };
    const dead = await runTransform('enrich', { lookups: [{ ...lookup, on_missing: 'dead_letter' }] }, [data]);
    expect(rowsOf(dead[0].data)).toEqual([
      { g: 'eu-west', h: 0n, v: 1, geo: 'Europe' },
      { g: 'us-east', h: 1n, v: 2, geo: 'Americas' },
    ]);
    expect(dead[0].meta.deadLetters?.map((d) => [d.reason, (d.record as { v: number }).v])).toEqual([
      ['no region match for g, h', 3],
      ['no region match for g, h', 4],
    ]);
    const dropped = await runTransform('enrich', { lookups: [{ ...lookup, on_missing: 'drop' }] }, [data]);
    expect(rowsOf(dropped[0].data).map((r) => r.v)).toEqual([1, 2]);
  });

  it('loads the reference once from a connector source (a CSV file)', async () => {
    const path = join(dir, 'regions.csv');
    await writeFile(path, 'code,geo\neu-west,Europe\nus-east,Americas\n');
    const data = typedBatch({ region: [['us-east', 'nowhere'], new Utf8()] });
    const out = await runTransform(
      'enrich',
      { lookups: [{ source: { type: 'file', config: { path } }, key: 'region', lookup_key: 'code' }] },
      [data, data],
    );
    expect(out.flatMap((b) => rowsOf(b.data))).toEqual([
      { region: 'us-east', geo: 'Americas' },
      { region: 'nowhere', geo: null },
      { region: 'us-east', geo: 'Americas' },
      { region: 'nowhere', geo: null },
    ]);
  });

  it('rejects a lookup with both or neither of source and rows, and an unknown connector', async () => {
    await expect(runTransform('enrich', { lookups: [{ key: 'g' }] }, [])).rejects.toThrow(/exactly one of source and rows/);
    await expect(
      runTransform('enrich', { lookups: [{ key: 'g', source: { type: 'nope' } }] }, [typedBatch({ g: [['a'], new Utf8()] })]),
    ).rejects.toThrow(/no connector with a source of type 'nope'/);
  });
});
