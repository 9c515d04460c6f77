import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export type SqlType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP';

/** An in-memory DuckDB: the independent oracle transforms are checked against. */
export async function openDuck(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
}

function literal(value: unknown, type: SqlType): string {
  if (value === null || value === undefined) return 'NULL';
  if (type === 'VARCHAR') return `'${String(value).replace(/'/g, "''")}'`;
  if (type === 'TIMESTAMP') return `epoch_ms(${Number(value)})`;
  if (type === 'DOUBLE') return Number.isNaN(value) ? "'NaN'::DOUBLE" : `${String(value)}::DOUBLE`;
  return String(value);
}

/** Creates `name` with the given columns and fills it with the rows (small data only). */
export async function loadTable(
  db: DuckDBConnection,
  name: string,
  columns: Record<string, SqlType>,
  rows: Record<string, unknown>[],
): Promise<void> {
  const names = Object.keys(columns);
  await db.run(`CREATE OR REPLACE TABLE ${name} (__row INTEGER, ${names.map((c) => `"${c}" ${columns[c]}`).join(', ')})`);
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const values = chunk.map((row, k) => `(${start + k}, ${names.map((c) => literal(row[c], columns[c])).join(', ')})`).join(',\n');
    await db.run(`INSERT INTO ${name} VALUES ${values}`);
  }
}

/** Rows of a query as plain objects (BIGINT as bigint, TIMESTAMP as epoch ms). */
export async function query(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await db.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}
