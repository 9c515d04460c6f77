import { Type, type Static } from '@sinclair/typebox';
import type { RecordBatch, Vector } from 'apache-arrow';
import { map, type OperatorFunction } from 'rxjs';
import { withData, type Batch } from '../core/batch.js';
import { SluiceError, type ErrorIssue } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { indicesOfMask, takeRows, withColumns } from './arrow-ops.js';
import { columnKind, fillMissing, missingMask } from './columns/fill.js';
import { holdAll } from './columns/hold-all.js';
import { KeyIndex } from './columns/key-index.js';
import { float64Vector, isNumericType, readNumbers } from './columns/numbers.js';
import { ColumnStats } from './clean/column-stats.js';

const FillValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

export const CleanConfig = Type.Object(
  {
    remove_duplicates: Type.Optional(Type.Boolean({ default: false, description: 'Remove rows whose key repeats an earlier row.' })),
    duplicate_columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Key columns for duplicates; all columns when omitted.' }),
    ),
    keep: Type.Optional(
      Type.Union([Type.Literal('first'), Type.Literal('last')], { default: 'first', description: 'Which duplicate survives.' }),
    ),
    missing_values: Type.Optional(
      Type.Object(
        {
          strategy: Type.Union(['drop', 'fill', 'mean', 'median', 'mode', 'forward_fill'].map((s) => Type.Literal(s))),
          fill_values: Type.Optional(
            Type.Record(Type.String({ minLength: 1 }), FillValue, { description: 'Per-column constants (strategy fill).' }),
          ),
          columns: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), {
              description: 'Columns considered; all (numeric ones for mean and median) when omitted.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    remove_outliers: Type.Optional(Type.Boolean({ default: false })),
    outlier_columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Numeric columns checked for outliers; all numeric when omitted.' }),
    ),
    outlier_method: Type.Optional(Type.Union([Type.Literal('iqr'), Type.Literal('zscore')], { default: 'iqr' })),
    outlier_threshold: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'IQR multiplier (default 1.5) or z-score limit (default 3).' }),
    ),
    outlier_action: Type.Optional(Type.Union([Type.Literal('remove'), Type.Literal('clip')], { default: 'remove' })),
  },
  { additionalProperties: false },
);
export type CleanConfig = Static<typeof CleanConfig>;

/**
 * `clean`: duplicates, then missing values, then outliers, in that order (as the seed does).
 *
 * - Duplicates (`remove_duplicates`, key `duplicate_columns` or every column): `keep: first` runs
 *   on running state (the distinct keys seen, never rows), so it works on unbounded input;
 *   `keep: last` needs the whole input.
 * - Missing values (null, and NaN in floats): `drop`, `fill` (`fill_values` per column) and
 *   `forward_fill` (carried across batches) work per batch; `mean`, `median` and `mode` fill with
 *   the statistic of the whole input (after deduplication).
 * - Outliers (`iqr`: outside [Q1 − k·IQR, Q3 + k·IQR], k = 1.5; `zscore`: |x − mean| / std > 3):
 *   `remove` drops the row, `clip` moves the value to the bound; null values are not outliers.
 *
 * Whatever needs the whole input holds the batches (answering each with an empty batch whose
 * `retainedFrom` keeps the checkpoint before them) and emits the cleaned batches on completion.
 * On an unbounded input those options are refused when the config is validated.
 *
 * @example
 * { type: 'clean', config: { remove_duplicates: true, duplicate_columns: ['resource_id'],
 *   missing_values: { strategy: 'fill', fill_values: { compliance_status: 'unknown', cost: 0 } },
 *   remove_outliers: true, outlier_columns: ['cost'] } }
 */
export const cleanTransform = registry.transform({
  type: 'clean',
  description: 'Removes duplicates, handles missing values and removes or clips outliers.',
  configSchema: CleanConfig,
  holdsRows: (config) => wholeInputOptions(config).length > 0,
  validate(config, input) {
    const issues: ErrorIssue[] = input.unbounded
      ? wholeInputOptions(config).map(({ path, option }) => ({
          path,
          message: `${option} needs the whole input, which an unbounded input never completes`,
        }))
      : [];
    if (config.missing_values?.strategy === 'fill' && !config.missing_values.fill_values)
      issues.push({ path: 'missing_values.fill_values', message: 'strategy fill needs fill_values' });
    return issues;
  },
  create: (config) => (wholeInputOptions(config).length === 0 ? streamingClean(config) : boundedClean(config)),
});

/** The options set that need the whole input: where each is, and what it says. */
function wholeInputOptions(config: CleanConfig): { path: string; option: string }[] {
  const strategy = config.missing_values?.strategy;
  const whole: { path: string; option: string }[] = [];
  if (config.remove_duplicates && config.keep === 'last') whole.push({ path: 'keep', option: 'keep last' });
  if (strategy === 'mean' || strategy === 'median' || strategy === 'mode')
    whole.push({ path: 'missing_values.strategy', option: `strategy ${strategy}` });
  if (config.remove_outliers) whole.push({ path: 'remove_outliers', option: 'remove_outliers' });
  return whole;
}

type Cleaner = (data: RecordBatch) => RecordBatch;

/** Dedupe (keep first) and per-batch missing-value handling. */
function streamingClean(config: CleanConfig): OperatorFunction<Batch, Batch> {
  const steps: Cleaner[] = [];
  if (config.remove_duplicates) steps.push(keepFirst(config.duplicate_columns));
  const missing = config.missing_values && perBatchMissing(config.missing_values);
  if (missing) steps.push(missing);
  return map((batch) => {
    let data = batch.data;
    for (const step of steps) data = step(data);
    return data === batch.data ? batch : withData(batch, data);
  });
}

/** drop, fill and forward_fill: batch by batch (forward_fill carries the last value across). */
function perBatchMissing(missing: NonNullable<CleanConfig['missing_values']>): Cleaner | undefined {
  switch (missing.strategy) {
    case 'drop':
      return (data) => dropMissing(data, missing.columns);
    case 'fill':
      return (data) => fillConstants(data, missing.fill_values!);
    case 'forward_fill': {
      const carry = new Map<string, { last: unknown }>();
      return (data) => {
        const names = missing.columns ?? data.schema.fields.map((f) => f.name);
        const updates = names.map((name) => {
          let state = carry.get(name);
          if (!state) carry.set(name, (state = { last: undefined }));
          return { name, vector: fillMissing(column(data, name), { forward: state }, `clean forward_fill '${name}'`) };
        });
        const changed = updates.filter((u) => u.vector !== data.getChild(u.name));
        return changed.length === 0 ? data : withColumns(data, changed);
      };
    }
    default:
      return undefined;
  }
}

/** Everything over the whole input: held until completion, then cleaned pass by pass. */
function boundedClean(config: CleanConfig): OperatorFunction<Batch, Batch> {
  return holdAll((input) => {
    let batches = input;
    if (config.remove_duplicates)
      batches = config.keep === 'last' ? keepLast(batches, config.duplicate_columns) : batches.map(keepFirst(config.duplicate_columns));
    const missing = config.missing_values;
    if (missing?.strategy === 'mean' || missing?.strategy === 'median' || missing?.strategy === 'mode') {
      const fills = statisticFills(batches, missing.strategy, missing.columns);
      batches = batches.map((data) => fillConstants(data, fills));
    } else if (missing) {
      batches = batches.map(perBatchMissing(missing)!);
    }
    if (config.remove_outliers) batches = removeOutliers(batches, config);
    return batches;
  });
}

function column(data: RecordBatch, name: string): Vector {
  const vector = data.getChild(name);
  if (!vector) {
    const available = data.schema.fields.map((f) => f.name).join(', ') || 'none';
    throw new SluiceError('SLUICE_TRANSFORM_FAILED', `clean: no column '${name}' (columns: ${available})`);
  }
  return vector;
}

function keyColumns(data: RecordBatch, names: string[] | undefined): Vector[] {
  return (names ?? data.schema.fields.map((f) => f.name)).map((name) => column(data, name));
}

/** Keeps rows whose key was never seen before (in this or an earlier batch). */
function keepFirst(names: string[] | undefined): Cleaner {
  let keys: KeyIndex | undefined;
  return (data) => {
    const columns = keyColumns(data, names);
    keys ??= new KeyIndex(columns.length);
    const before = keys.size;
    const ids = keys.ids(columns, data.numRows);
    const keep = new Uint8Array(data.numRows);
    let next = before;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === next) {
        keep[i] = 1;
        next++;
      }
    }
    return next - before === data.numRows ? data : takeRows(data, indicesOfMask(keep));
  };
}

/** Keeps the last row of each key over all batches, in the order the rows arrived. */
function keepLast(batches: RecordBatch[], names: string[] | undefined): RecordBatch[] {
  if (batches.length === 0) return batches;
  const keys = new KeyIndex(keyColumns(batches[0], names).length);
  const ids = batches.map((data) => keys.ids(keyColumns(data, names), data.numRows));
  const lastBatch = new Int32Array(keys.size);
  const lastRow = new Int32Array(keys.size);
  ids.forEach((batchIds, b) => batchIds.forEach((g, i) => ((lastBatch[g] = b), (lastRow[g] = i))));
  return batches.map((data, b) => {
    const keep = new Uint8Array(data.numRows);
    ids[b].forEach((g, i) => (keep[i] = lastBatch[g] === b && lastRow[g] === i ? 1 : 0));
    return takeRows(data, indicesOfMask(keep));
  });
}

function dropMissing(data: RecordBatch, names: string[] | undefined): RecordBatch {
  const keep = new Uint8Array(data.numRows).fill(1);
  for (const name of names ?? data.schema.fields.map((f) => f.name)) {
    const missing = missingMask(column(data, name));
    for (let i = 0; i < keep.length; i++) keep[i] &= missing[i] ^ 1;
  }
  return takeRows(data, indicesOfMask(keep));
}

function fillConstants(data: RecordBatch, values: Record<string, unknown>): RecordBatch {
  const updates = Object.entries(values)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => ({ name, vector: fillMissing(column(data, name), { value }, `clean fill '${name}'`) }));
  const changed = updates.filter((u) => u.vector !== data.getChild(u.name));
  return changed.length === 0 ? data : withColumns(data, changed);
}

/** Per column, the mean, median or mode over every held batch. */
function statisticFills(
  batches: RecordBatch[],
  strategy: 'mean' | 'median' | 'mode',
  names: string[] | undefined,
): Record<string, unknown> {
  if (batches.length === 0) return {};
  const schema = batches[0].schema;
  const candidates = names ?? schema.fields.filter((f) => strategy === 'mode' || isNumericType(f.type)).map((f) => f.name);
  const fills: Record<string, unknown> = {};
  for (const name of candidates) {
    const stats = new ColumnStats(strategy === 'median');
    for (const data of batches) stats.add(column(data, name), strategy === 'mode');
    const value = strategy === 'mean' ? stats.mean() : strategy === 'median' ? stats.quantile(0.5) : stats.mode();
    // A mean of integers fills an integer column rounded, as the column cannot hold a fraction.
    const kind = columnKind(column(batches[0], name));
    fills[name] =
      value === undefined ? null : (kind === 'int' || kind === 'bigint') && typeof value === 'number' ? Math.round(value) : value;
  }
  return fills;
}

function removeOutliers(batches: RecordBatch[], config: CleanConfig): RecordBatch[] {
  if (batches.length === 0) return batches;
  const names = config.outlier_columns ?? batches[0].schema.fields.filter((f) => isNumericType(f.type)).map((f) => f.name);
  const bounds = new Map<string, [number, number]>();
  for (const name of names) {
    const stats = new ColumnStats(config.outlier_method !== 'zscore');
    for (const data of batches) stats.add(column(data, name), false);
    if (stats.count === 0) continue;
    if (config.outlier_method === 'zscore') {
      const limit = config.outlier_threshold ?? 3;
      const std = stats.std();
      // A constant column (std 0 or one value) has no outliers.
      if (std === undefined || std === 0) continue;
      const mean = stats.mean()!;
      bounds.set(name, [mean - limit * std, mean + limit * std]);
    } else {
      const k = config.outlier_threshold ?? 1.5;
      const q1 = stats.quantile(0.25)!;
      const q3 = stats.quantile(0.75)!;
      bounds.set(name, [q1 - k * (q3 - q1), q3 + k * (q3 - q1)]);
    }
  }
  return batches.map((data) => {
    if (config.outlier_action === 'clip') {
      return withColumns(
        data,
        [...bounds].map(([name, [low, high]]) => {
          const { values, valid } = readNumbers(column(data, name), `outlier column '${name}'`);
          const out = new Float64Array(values.length);
          for (let i = 0; i < values.length; i++) out[i] = valid[i] ? Math.min(high, Math.max(low, values[i])) : 0;
          return { name, vector: float64Vector(out, valid) };
        }),
      );
    }
    const keep = new Uint8Array(data.numRows).fill(1);
    for (const [name, [low, high]] of bounds) {
      const { values, valid } = readNumbers(column(data, name), `outlier column '${name}'`);
      for (let i = 0; i < keep.length; i++) if (valid[i] && (values[i] < low || values[i] > high)) keep[i] = 0;
    }
    return takeRows(data, indicesOfMask(keep));
  });
}
