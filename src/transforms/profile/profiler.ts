import { DataType, Table, type RecordBatch, type Vector } from 'apache-arrow';
import { ColumnStats } from '../clean/column-stats.js';
import { kindOfType, loadColumn } from '../expression/columns.js';
import { missingMask } from '../columns/fill.js';
import { KeyIndex } from '../columns/key-index.js';
import { isNumericType } from '../columns/numbers.js';
import { HyperLogLog } from './hyperloglog.js';
import { arrowDetectedType, detectType, type DetectedType } from './type-detect.js';

export interface ProfileOptions {
  /** Distinct values counted exactly up to this many per column; beyond, a HyperLogLog estimate. */
  distinctLimit?: number;
  /** How many most frequent values to report per column. */
  topValues?: number;
  /** Quantiles reported for numeric columns. */
  quantiles?: number[];
}

export interface ColumnProfile {
  name: string;
  arrow_type: string;
  inferred_type: DetectedType;
  null_count: number;
  null_ratio: number;
  distinct_count: number;
  /** False once the distinct count is a HyperLogLog estimate (top values then cover the first values seen). */
  distinct_exact: boolean;
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
  quantiles?: Record<string, number>;
  top_values: { value: unknown; count: number }[];
}

export interface ProfileReport {
  row_count: number;
  /** Rows equal, in every column, to an earlier row. */
  duplicate_rows: number;
  columns: ColumnProfile[];
}

class ColumnProfiler {
  private nulls = 0;
  private rows = 0;
  private keys: KeyIndex | undefined = new KeyIndex(1);
  private counts = new Float64Array(16);
  private sketch: HyperLogLog | undefined;
  private readonly stats: ColumnStats | undefined;

  constructor(
    readonly name: string,
    readonly type: DataType,
    private readonly limit: number,
  ) {
    this.stats = isNumericType(type) ? new ColumnStats() : undefined;
  }

  add(vector: Vector): void {
    const n = vector.length;
    this.rows += n;
    const missing = missingMask(vector);
    for (let i = 0; i < n; i++) this.nulls += missing[i];
    this.stats?.add(vector, false);
    if (this.keys) {
      const ids = this.keys.ids([vector], n);
      if (this.counts.length < this.keys.size) {
        const grown = new Float64Array(Math.max(this.keys.size, this.counts.length * 2));
        grown.set(this.counts);
        this.counts = grown;
      }
      for (let i = 0; i < n; i++) this.counts[ids[i]]++;
      if (this.keys.size > this.limit) {
        // Too many distinct values to keep exactly: continue with a sketch seeded with them.
        this.sketch = new HyperLogLog();
        for (let g = 0; g < this.keys.size; g++) {
          const value = this.keys.keyValue(g, 0);
          if (value !== null) this.sketch.add(value);
        }
        this.frozen = this.keys;
        this.keys = undefined;
      }
      return;
    }
    const kind = kindOfType(vector.type as DataType);
    const col = loadColumn(vector, kind === 'other' ? 'string' : kind);
    const values = col.values as ArrayLike<unknown> | null;
    if (!values) return;
    for (let i = 0; i < n; i++) if (!missing[i]) this.sketch!.add(values[i]);
  }

  private frozen: KeyIndex | undefined;

  report(options: Required<ProfileOptions>): ColumnProfile {
    const keys = this.keys ?? this.frozen!;
    const distinctValues: { value: unknown; count: number }[] = [];
    for (let g = 0; g < keys.size; g++) {
      const value = keys.keyValue(g, 0);
      if (value !== null && value === value) distinctValues.push({ value, count: this.counts[g] });
    }
    const kind = kindOfType(this.type);
    const profile: ColumnProfile = {
      name: this.name,
      arrow_type: String(this.type),
      inferred_type: inferredType(
        this.type,
        distinctValues.map((d) => d.value),
      ),
      null_count: this.nulls,
      null_ratio: this.rows === 0 ? 0 : this.nulls / this.rows,
      distinct_count: this.sketch ? this.sketch.estimate() : distinctValues.length,
      distinct_exact: this.sketch === undefined,
      top_values: distinctValues
        .sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)))
        .slice(0, options.topValues)
        .map((d) => ({
          value:
            typeof d.value === 'bigint'
              ? d.value.toString()
              : kind === 'bool'
                ? d.value === 1
                : kind === 'timestamp'
                  ? new Date(d.value as number).toISOString()
                  : d.value,
          count: d.count,
        })),
    };
    const stats = this.stats;
    if (stats && stats.count > 0) {
      const asTime = kind === 'timestamp';
      profile.min = asTime ? new Date(stats.min).toISOString() : stats.min;
      profile.max = asTime ? new Date(stats.max).toISOString() : stats.max;
      if (!asTime) {
        profile.mean = stats.mean();
        profile.std = stats.std();
        profile.quantiles = Object.fromEntries(options.quantiles.map((q) => [`p${Math.round(q * 100)}`, stats.quantile(q)!]));
      }
    }
    return profile;
  }
}

function inferredType(type: DataType, values: unknown[]): DetectedType {
  return arrowDetectedType(type) ?? detectType(values as string[]);
}

/**
 * Profiles batches incrementally: per column null counts, distinct counts (exact up to a limit,
 * then HyperLogLog), numeric statistics and quantiles, top values and the inferred type of text
 * columns; plus row and duplicate counts. Numeric columns keep their values for exact quantiles.
 */
export class Profiler {
  private readonly options: Required<ProfileOptions>;
  private columns: ColumnProfiler[] | undefined;
  private rows: KeyIndex | undefined;
  private rowCount = 0;
  private duplicates = 0;

  constructor(options: ProfileOptions = {}) {
    this.options = {
      distinctLimit: options.distinctLimit ?? 10_000,
      topValues: options.topValues ?? 5,
      quantiles: options.quantiles ?? [0.25, 0.5, 0.75],
    };
  }

  add(data: RecordBatch): void {
    this.columns ??= data.schema.fields.map((f) => new ColumnProfiler(f.name, f.type as DataType, this.options.distinctLimit));
    this.rows ??= new KeyIndex(this.columns.length);
    const vectors = this.columns.map((c) => data.getChild(c.name));
    this.columns.forEach((c, i) => vectors[i] && c.add(vectors[i]));
    if (vectors.every((v) => v !== null)) {
      const before = this.rows.size;
      const ids = this.rows.ids(vectors as Vector[], data.numRows);
      let next = before;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] === next) next++;
        else this.duplicates++;
      }
    }
    this.rowCount += data.numRows;
  }

  report(): ProfileReport {
    return { row_count: this.rowCount, duplicate_rows: this.duplicates, columns: (this.columns ?? []).map((c) => c.report(this.options)) };
  }
}

/**
 * The profile of a table (the control plane's `POST /data/profile`), without the runtime.
 *
 * @example profileTable(table, { topValues: 3 }).columns[0].inferred_type
 */
export function profileTable(input: Table | Iterable<RecordBatch>, options: ProfileOptions = {}): ProfileReport {
  const profiler = new Profiler(options);
  for (const data of input instanceof Table ? input.batches : input) profiler.add(data);
  return profiler.report();
}
