/**
 * Transform library throughput: a governance dataset in Arrow batches through
 * clean (dedupe + fill) → normalize → filter → aggregate, three ways in one process: Sluice's
 * operators, a straightforward row-object JavaScript version, and DuckDB on the same data.
 *
 *   npm run bench -- transforms [--rows 5000000] [--batch 65536] [--seed 7] [--sluice-only]
 *
 * Writes bench/results/transforms.json. Last line:
 * `RESULT transforms rows_per_s=<n> vs_row_objects=<x> vs_duckdb=<x>` (ratio = other time / ours).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, Float64, RecordBatch, Schema, type Vector } from 'apache-arrow';
import { firstValueFrom, from, toArray } from 'rxjs';
import { rowsOf, type Batch } from '../src/core/batch.js';
import { parseConfig } from '../src/core/config.js';
import { logger } from '../src/core/logger.js';
import { registry } from '../src/core/registry.js';
import { encodeParquet } from '../src/formats/encode-parquet.js';
import { recordBatchOf } from '../src/transforms/arrow-ops.js';
import { float64Vector } from '../src/transforms/columns/numbers.js';
import { utf8Vector } from '../src/transforms/expression/columns.js';
import '../src/transforms/index.js';
import { prng } from '../scripts/prng.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    batch: { type: 'string', default: '65536' },
    seed: { type: 'string', default: '7' },
    'sluice-only': { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const BATCH = Number(args.batch);
const out = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

// Collect the garbage of data generation (and of the previous run) before each timed run, so no
// run pays for another's: `--expose-gc` cannot be passed through `npm run bench`.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const PIPELINE = [
  {
    type: 'clean',
    config: {
      remove_duplicates: true,
      duplicate_columns: ['resource_id'],
      missing_values: { strategy: 'fill', fill_values: { compliance_status: 'unknown', monthly_cost: 0.0 } },
    },
  },
  { type: 'normalize', config: { min_max_columns: ['cpu_utilization'], zscore_columns: ['monthly_cost'] } },
  { type: 'filter', config: { condition: "compliance_status != 'exempt' and cpu_utilization >= 0.1" } },
  {
    type: 'aggregate',
    config: {
      group_by: ['region', 'resource_type'],
      aggregations: { monthly_cost: ['sum', 'mean', 'max'], cpu_utilization: ['mean', 'std'], resource_id: ['count'] },
    },
  },
];

const REGIONS = ['eastus', 'eastus2', 'westus2', 'westeurope', 'northeurope', 'uksouth', 'southeastasia', 'japaneast'];
const TYPES = [
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Storage/storageAccounts',
  'Microsoft.Sql/servers/databases',
  'Microsoft.Web/sites',
  'Microsoft.KeyVault/vaults',
];
const STATUSES = ['compliant', 'compliant', 'compliant', 'non_compliant', 'exempt'];

/** The dataset: ~3% duplicated resource ids, missing statuses and costs, a few cost outliers. */
function generate(): RecordBatch[] {
  const random = prng(Number(args.seed));
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const schema = new Schema(
    ['resource_id', 'region', 'resource_type', 'compliance_status', 'monthly_cost', 'cpu_utilization'].map(
      (name, i) => new Field(name, i < 4 ? utf8Vector([], null, 0).type : new Float64(), true),
    ),
  );
  const batches: RecordBatch[] = [];
  for (let start = 0; start < ROWS; start += BATCH) {
    const n = Math.min(BATCH, ROWS - start);
    const ids: string[] = new Array(n);
    const regions: string[] = new Array(n);
    const types: string[] = new Array(n);
    const statuses: string[] = new Array(n);
    const statusValid = new Uint8Array(n);
    const cost = new Float64Array(n);
    const costValid = new Uint8Array(n);
    const cpu = new Float64Array(n);
    const cpuValid = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      const row = start + i;
      const id = random() < 0.03 && row > 0 ? Math.floor(random() * row) : row;
      ids[i] = `/subscriptions/0001/resourceGroups/rg-${id % 500}/providers/r-${id}`;
      regions[i] = pick(REGIONS);
      types[i] = pick(TYPES);
      statuses[i] = pick(STATUSES);
      statusValid[i] = random() < 0.02 ? 0 : 1;
      cost[i] = random() < 0.001 ? 50_000 + random() * 1e5 : Math.round(random() * 40_000) / 100;
      costValid[i] = random() < 0.03 ? 0 : 1;
      cpu[i] = Math.round(random() * 10_000) / 100;
    }
    const columns: Vector[] = [
      utf8Vector(ids, null, n),
      utf8Vector(regions, null, n),
      utf8Vector(types, null, n),
      utf8Vector(statuses, statusValid, n),
      float64Vector(cost, costValid),
      float64Vector(cpu, cpuValid),
    ];
    batches.push(recordBatchOf(schema, columns, n));
  }
  return batches;
}

type Result = Map<string, number[]>;

/** Sluice: the registered operators chained over the batches. */
async function runSluice(batches: RecordBatch[]): Promise<Result> {
  const operators = PIPELINE.map((step) => {
    const definition = registry.getTransform(step.type)!;
    return definition.create(parseConfig(definition.configSchema, step.config) as never, { node: step.type, logger, unbounded: false });
  });
  const input: Batch[] = batches.map((data, seq) => ({
    data,
    meta: { stream: 'bench', partition: '0', position: seq, kind: 'records', seq },
  }));
  let stream = from(input);
  for (const operator of operators) stream = stream.pipe(operator);
  const output = await firstValueFrom(stream.pipe(toArray()));
  const result: Result = new Map();
  for (const b of output)
    for (const r of rowsOf(b.data))
      result.set(
        `${String(r.region)}|${String(r.resource_type)}`,
        [
          r.monthly_cost_sum,
          r.monthly_cost_mean,
          r.monthly_cost_max,
          r.cpu_utilization_mean,
          r.cpu_utilization_std,
          r.resource_id_count,
        ].map(Number),
      );
  return result;
}

interface Row {
  resource_id: string | null;
  region: string | null;
  resource_type: string | null;
  compliance_status: string | null;
  monthly_cost: number | null;
  cpu_utilization: number | null;
}

/** The same pipeline written the plain way, over an array of row objects. */
function runRowObjects(rows: Row[]): Result {
  const seen = new Set<string | null>();
  const cleaned: Row[] = [];
  for (const row of rows) {
    if (seen.has(row.resource_id)) continue;
    seen.add(row.resource_id);
    cleaned.push({ ...row, compliance_status: row.compliance_status ?? 'unknown', monthly_cost: row.monthly_cost ?? 0 });
  }
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  let count = 0;
  for (const row of cleaned) {
    if (row.cpu_utilization !== null) {
      lo = Math.min(lo, row.cpu_utilization);
      hi = Math.max(hi, row.cpu_utilization);
    }
    if (row.monthly_cost !== null) {
      sum += row.monthly_cost;
      count++;
    }
  }
  const mean = sum / count;
  let squares = 0;
  for (const row of cleaned) if (row.monthly_cost !== null) squares += (row.monthly_cost - mean) ** 2;
  const sd = Math.sqrt(squares / (count - 1));
  const normalized = cleaned.map((row) => ({
    ...row,
    cpu_utilization: row.cpu_utilization === null ? null : (row.cpu_utilization - lo) / (hi - lo),
    monthly_cost: row.monthly_cost === null ? null : (row.monthly_cost - mean) / sd,
  }));
  const kept = normalized.filter((row) => row.compliance_status !== 'exempt' && row.cpu_utilization !== null && row.cpu_utilization >= 0.1);
  const groups = new Map<string, { n: number; sum: number; max: number; cpuSum: number; cpuSq: number; cpuN: number; ids: number }>();
  for (const row of kept) {
    const key = `${row.region}|${row.resource_type}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { n: 0, sum: 0, max: -Infinity, cpuSum: 0, cpuSq: 0, cpuN: 0, ids: 0 }));
    if (row.monthly_cost !== null) {
      g.n++;
      g.sum += row.monthly_cost;
      g.max = Math.max(g.max, row.monthly_cost);
    }
    if (row.cpu_utilization !== null) {
      g.cpuN++;
      g.cpuSum += row.cpu_utilization;
      g.cpuSq += row.cpu_utilization ** 2;
    }
    if (row.resource_id !== null) g.ids++;
  }
  const result: Result = new Map();
  for (const [key, g] of groups) {
    const cpuMean = g.cpuSum / g.cpuN;
    result.set(key, [g.sum, g.sum / g.n, g.max, cpuMean, Math.sqrt((g.cpuSq - g.cpuN * cpuMean ** 2) / (g.cpuN - 1)), g.ids]);
  }
  return result;
}

const DUCK_SQL = `
WITH dedup AS (SELECT * FROM gov QUALIFY row_number() OVER (PARTITION BY resource_id ORDER BY rowid) = 1),
filled AS (SELECT * REPLACE (coalesce(compliance_status, 'unknown') AS compliance_status, coalesce(monthly_cost, 0) AS monthly_cost) FROM dedup),
stats AS (SELECT min(cpu_utilization) AS lo, max(cpu_utilization) AS hi, avg(monthly_cost) AS m, stddev_samp(monthly_cost) AS sd FROM filled),
norm AS (SELECT f.* REPLACE ((cpu_utilization - lo) / (hi - lo) AS cpu_utilization, (monthly_cost - m) / sd AS monthly_cost) FROM filled f, stats),
kept AS (SELECT * FROM norm WHERE compliance_status != 'exempt' AND cpu_utilization >= 0.1)
SELECT region, resource_type, sum(monthly_cost) AS a, avg(monthly_cost) AS b, max(monthly_cost) AS c, avg(cpu_utilization) AS d,
       stddev_samp(cpu_utilization) AS e, count(resource_id) AS f
FROM kept GROUP BY ALL`;

function agree(a: Result, b: Result): boolean {
  if (a.size !== b.size) return false;
  for (const [key, values] of a) {
    const other = b.get(key);
    if (!other || values.some((v, i) => Math.abs(v - other[i]) > 1e-6 * Math.max(1, Math.abs(v)))) return false;
  }
  return true;
}

/** Process CPU seconds (all threads) spent by each timed run: steadier than wall time on a busy machine. */
const cpu: Record<string, number> = {};

const time = async <T>(name: string, fn: () => T | Promise<T>): Promise<[T, number]> => {
  collectGarbage();
  const started = performance.now();
  const usage = process.cpuUsage();
  const value = await fn();
  const spent = process.cpuUsage(usage);
  cpu[name] = (spent.user + spent.system) / 1e6;
  return [value, (performance.now() - started) / 1000];
};

out(`generating ${ROWS.toLocaleString()} rows in batches of ${BATCH}`);
const batches = generate();
const rssBefore = process.memoryUsage().rss;

const [ours, sluiceSeconds] = await time('sluice', () => runSluice(batches));
const sluiceRss = process.resourceUsage().maxRSS * 1024;
out(
  `sluice:      ${sluiceSeconds.toFixed(2)} s (cpu ${cpu.sluice.toFixed(2)} s)  ${Math.round(ROWS / sluiceSeconds).toLocaleString()} rows/s  peak RSS ${mb(sluiceRss)} MB (data ${mb(rssBefore)} MB before)`,
);

if (args['sluice-only']) process.exit(0);
const rows = batches.flatMap((b) => rowsOf(b) as unknown as Row[]);
const [plain, rowSeconds] = await time('row_objects', () => runRowObjects(rows));
rows.length = 0;
out(
  `row objects: ${rowSeconds.toFixed(2)} s (cpu ${cpu.row_objects.toFixed(2)} s)  ${Math.round(ROWS / rowSeconds).toLocaleString()} rows/s`,
);

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
let duckSeconds: number;
let duck: Result;
let threads: unknown;
try {
  for (const [i, data] of batches.entries()) await writeFile(join(dir, `part-${String(i).padStart(6, '0')}.parquet`), encodeParquet(data));
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  await db.run(`CREATE TABLE gov AS SELECT * FROM read_parquet('${join(dir, '*.parquet')}')`);
  threads = (await db.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjectsJS()[0].t;
  const [reader, seconds] = await time('duckdb', () => db.runAndReadAll(DUCK_SQL));
  duckSeconds = seconds;
  duck = new Map(
    reader.getRowObjectsJS().map((r) => [`${String(r.region)}|${String(r.resource_type)}`, [r.a, r.b, r.c, r.d, r.e, r.f].map(Number)]),
  );
  db.closeSync();
} finally {
  await rm(dir, { recursive: true, force: true });
}
out(
  `duckdb:      ${duckSeconds.toFixed(2)} s (cpu ${cpu.duckdb.toFixed(2)} s)  ${Math.round(ROWS / duckSeconds).toLocaleString()} rows/s  (threads ${String(threads)})`,
);

const results = {
  rows: ROWS,
  batch: BATCH,
  pipeline: PIPELINE.map((s) => s.type),
  sluice: { seconds: sluiceSeconds, rows_per_s: Math.round(ROWS / sluiceSeconds), peak_rss_mb: mb(sluiceRss) },
  row_objects: { seconds: rowSeconds, rows_per_s: Math.round(ROWS / rowSeconds) },
  duckdb: { seconds: duckSeconds, rows_per_s: Math.round(ROWS / duckSeconds), threads: Number(threads) },
  vs_row_objects: rowSeconds / sluiceSeconds,
  vs_duckdb: duckSeconds / sluiceSeconds,
  cpu_seconds: cpu,
  cpu_vs_row_objects: cpu.row_objects / cpu.sluice,
  cpu_vs_duckdb: cpu.duckdb / cpu.sluice,
  results_agree: { row_objects: agree(ours, plain), duckdb: agree(ours, duck) },
  groups: ours.size,
};
out(`cpu-time ratios: vs row objects ${results.cpu_vs_row_objects.toFixed(2)}, vs duckdb ${results.cpu_vs_duckdb.toFixed(2)}`);
out(`results agree: row objects ${results.results_agree.row_objects}, duckdb ${results.results_agree.duckdb} (${ours.size} groups)`);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/transforms.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
out(
  `RESULT transforms rows_per_s=${results.sluice.rows_per_s} vs_row_objects=${results.vs_row_objects.toFixed(2)} vs_duckdb=${results.vs_duckdb.toFixed(2)}`,
);
