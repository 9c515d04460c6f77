import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordBatchFromColumns } from '../../../src/core/batch.js';
import '../../../src/connectors/file/index.js';
import { encodeCsv, encodeNdjson, encodeParquet } from '../../../src/formats/index.js';
import { readAll, tempDir } from '../../formats/helpers.js';
import { sinkContract, sourceContract } from '../../support/connector-contract.js';

const dir = tempDir('sluice-file-contract-');
let files = 0;

const rows = (count: number) => {
  const ids = Array.from({ length: count }, (_, i) => i);
  return recordBatchFromColumns({ id: Float64Array.from(ids), name: ids.map((id) => `row ${id}`) });
};

const formats = {
  csv: (count: number) => encodeCsv(rows(count), { header: true }),
  ndjson: (count: number) => encodeNdjson(rows(count)),
  parquet: (count: number) => encodeParquet(rows(count), { compression: 'snappy' }),
};

for (const [format, encode] of Object.entries(formats)) {
  sourceContract({
    title: `file source (${format})`,
    type: 'file',
    resumable: true,
    unbounded: false,
    seed: async (count) => {
      const path = join(dir, `seed-${++files}.${format}`);
      writeFileSync(path, encode(count));
      return { path };
    },
    failures: [{ name: 'a path that does not exist', config: () => ({ path: join(dir, 'missing.csv') }), retriable: false }],
  });
}

/** Every row of a file, or of the part files of a directory. */
async function rowsAt(path: string, format: 'ndjson' | 'csv' | 'parquet'): Promise<Record<string, unknown>[]> {
  if (format !== 'parquet') return (await readAll(path, format).catch(() => ({ rows: [] }))).rows;
  const parts = (() => {
    try {
      return readdirSync(path)
        .filter((name) => name.endsWith('.parquet'))
        .sort();
    } catch {
      return [];
    }
  })();
  const all = [];
  for (const part of parts) all.push(...(await readAll(join(path, part), 'parquet')).rows);
  return all;
}

const foreignFiles = () => {
  const path = join(dir, `mixed-${++files}`);
  mkdirSync(path);
  writeFileSync(join(path, 'notes.txt'), 'not a part file');
  return { path, format: 'parquet', mode: 'replace' };
};

for (const mode of ['overwrite', 'append', 'replace'] as const) {
  for (const format of ['ndjson', 'csv', 'parquet'] as const) {
    sinkContract({
      title: `file sink (${format}, ${mode})`,
      type: 'file',
      atomicReplace: mode === 'replace',
      target: async () => {
        const path = join(dir, `target-${++files}${format === 'parquet' ? '' : `.${format}`}`);
        return { config: { path, format, mode }, readBack: () => rowsAt(path, format) };
      },
      failures: [{ name: 'a replace of a directory holding other files', config: foreignFiles, retriable: false }],
    });
  }
}
