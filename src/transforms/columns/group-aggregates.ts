import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { kindOfType, loadColumn, toVector, type Col, type Kind } from '../expression/columns.js';
import { missingMask } from './fill.js';
import { float64Vector, isNumericType, readNumbers } from './numbers.js';

export const AGG_FUNCS = ['sum', 'mean', 'min', 'max', 'count', 'std', 'median', 'count_distinct', 'first', 'last'] as const;
export type AggFunc = (typeof AGG_FUNCS)[number];

/** One output column: `func` over `column`, named `output` (e.g. `cost_sum`). */
export interface AggSpec {
  column: string;
  func: AggFunc;
  output: string;
}

const NUMERIC_ONLY = new Set<AggFunc>(['sum', 'mean', 'std', 'median', 'min', 'max']);

/** Per-group state of one aggregated column; grows as new group ids appear. */
interface Accumulator {
  add(vector: Vector, ids: Int32Array, groups: number): void;
  result(func: AggFunc, groups: number): Vector;
}

/**
 * Aggregates of many columns per dense group id (from a KeyIndex): one accumulator per input
 * column, shared by the functions over it. Nulls and NaN are skipped, as SQL and pandas do;
 * an aggregate over no value is null (count is 0). `std` is the sample standard deviation,
 * computed with Welford's update for stability; `median` interpolates an even count.
 */
export class GroupAggregates {
  private readonly accumulators = new Map<string, Accumulator>();

  constructor(readonly specs: AggSpec[]) {}

  /** Adds a batch whose rows belong to groups `ids` (all ids below `groups`). */
  add(batch: RecordBatch, ids: Int32Array, groups: number): void {
    for (const column of new Set(this.specs.map((s) => s.column))) {
      const vector = batch.getChild(column);
      if (!vector) {
        const available = batch.schema.fields.map((f) => f.name).join(', ');
        throw new SluiceError('SLUICE_TRANSFORM_FAILED', `aggregate: no column '${column}' (columns: ${available})`);
      }
      let accumulator = this.accumulators.get(column);
      if (!accumulator) {
        accumulator = this.createAccumulator(column, vector.type as DataType);
        this.accumulators.set(column, accumulator);
      }
      accumulator.add(vector, ids, groups);
    }
  }

  /** One vector per spec, with a row per group id below `groups`. */
  results(groups: number): { name: string; vector: Vector }[] {
    return this.specs.map((spec) => {
      const accumulator = this.accumulators.get(spec.column);
      // No batch was added (empty input): every aggregate is null or zero.
      const vector = accumulator ? accumulator.result(spec.func, groups) : emptyResult(spec.func, groups);
      return { name: spec.output, vector };
    });
  }

  private createAccumulator(column: string, type: DataType): Accumulator {
    const funcs = new Set(this.specs.filter((s) => s.column === column).map((s) => s.func));
    const numeric = isNumericType(type) || DataType.isNull(type);
    for (const func of funcs) {
      if (NUMERIC_ONLY.has(func) && !numeric) {
        throw new SluiceError('SLUICE_TRANSFORM_FAILED', `aggregate: ${func} needs a numeric column, '${column}' is ${String(type)}`);
      }
    }
    return new CompositeAccumulator(funcs, numeric, kindOfType(type));
  }
}

function emptyResult(func: AggFunc, groups: number): Vector {
  if (func === 'count' || func === 'count_distinct')
    return toVector({ kind: 'bigint', values: new BigInt64Array(groups), valid: null }, groups);
  return float64Vector(new Float64Array(groups), new Uint8Array(groups));
}

function grow<T extends Float64Array>(array: T, size: number, fill = 0): T {
  if (array.length >= size) return array;
  const grown = new Float64Array(Math.max(size, array.length * 2, 16)) as T;
  if (fill !== 0) grown.fill(fill, array.length);
  grown.set(array);
  return grown;
}

/** Everything one column needs for the requested functions, and nothing else. */
class CompositeAccumulator implements Accumulator {
  private count = new Float64Array(0);
  private sum = new Float64Array(0);
  private mean = new Float64Array(0);
  private m2 = new Float64Array(0);
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private readonly samples: number[][] = [];
  private readonly distinct: Set<unknown>[] = [];
  private readonly first: unknown[] = [];
  private readonly last: unknown[] = [];
  private readonly needs: { moments: boolean; extremes: boolean; samples: boolean; distinct: boolean; ends: boolean };

  constructor(
    funcs: Set<AggFunc>,
    private readonly numeric: boolean,
    private readonly kind: Kind,
  ) {
    this.needs = {
      moments: funcs.has('sum') || funcs.has('mean') || funcs.has('std') || (funcs.has('count') && numeric),
      extremes: funcs.has('min') || funcs.has('max'),
      samples: funcs.has('median'),
      distinct: funcs.has('count_distinct'),
      ends: funcs.has('first') || funcs.has('last'),
    };
    this.countValid = funcs.has('count') && !numeric;
  }

  private readonly countValid: boolean;

  add(vector: Vector, ids: Int32Array, groups: number): void {
    const n = vector.length;
    this.count = grow(this.count, groups);
    if (this.numeric) {
      const { values, valid } = readNumbers(vector);
      const count = this.count;
      if (this.needs.moments) {
        this.sum = grow(this.sum, groups);
        this.mean = grow(this.mean, groups);
        this.m2 = grow(this.m2, groups);
        const { sum, mean, m2 } = this;
        for (let i = 0; i < n; i++) {
          if (!valid[i]) continue;
          const g = ids[i];
          const x = values[i];
          const c = ++count[g];
          sum[g] += x;
          const delta = x - mean[g];
          mean[g] += delta / c;
          m2[g] += delta * (x - mean[g]);
        }
      } else {
        for (let i = 0; i < n; i++) if (valid[i]) count[ids[i]]++;
      }
      if (this.needs.extremes) {
        this.min = grow(this.min, groups, Infinity);
        this.max = grow(this.max, groups, -Infinity);
        const { min, max } = this;
        for (let i = 0; i < n; i++) {
          if (!valid[i]) continue;
          const g = ids[i];
          const x = values[i];
          if (x < min[g]) min[g] = x;
          if (x > max[g]) max[g] = x;
        }
      }
      if (this.needs.samples) {
        while (this.samples.length < groups) this.samples.push([]);
        for (let i = 0; i < n; i++) if (valid[i]) this.samples[ids[i]].push(values[i]);
      }
    }
    if (this.countValid) {
      // Counting text values needs their validity only, not the values.
      const missing = missingMask(vector);
      const count = this.count;
      for (let i = 0; i < n; i++) if (!missing[i]) count[ids[i]]++;
    }
    if (this.needs.distinct || this.needs.ends) this.addValues(vector, ids, groups);
  }

  /** Distinct sets and first/last values read the column in its own kind. */
  private addValues(vector: Vector, ids: Int32Array, groups: number): void {
    const n = vector.length;
    const col = loadColumn(vector, this.kind === 'other' ? 'string' : this.kind);
    const raw = col.values as ArrayLike<unknown> | null;
    const isValid = (i: number): boolean => raw !== null && (col.valid === null || col.valid[i] === 1) && raw[i] === raw[i];
    while (this.first.length < groups) {
      this.first.push(undefined);
      this.last.push(undefined);
      this.distinct.push(new Set());
    }
    for (let i = 0; i < n; i++) {
      if (!isValid(i)) continue;
      const g = ids[i];
      const v = raw![i];
      if (this.needs.distinct) this.distinct[g].add(v);
      if (this.needs.ends) {
        if (this.first[g] === undefined) this.first[g] = v;
        this.last[g] = v;
      }
    }
  }

  result(func: AggFunc, groups: number): Vector {
    this.count = grow(this.count, groups);
    const count = this.count;
    const out = new Float64Array(groups);
    const valid = new Uint8Array(groups);
    switch (func) {
      case 'count':
        return toVector({ kind: 'bigint', values: BigInt64Array.from(count.subarray(0, groups), (c) => BigInt(c)), valid: null }, groups);
      case 'count_distinct':
        return toVector(
          { kind: 'bigint', values: BigInt64Array.from({ length: groups }, (_, g) => BigInt(this.distinct[g]?.size ?? 0)), valid: null },
          groups,
        );
      case 'sum':
      case 'mean':
        for (let g = 0; g < groups; g++) {
          if (count[g] === 0) continue;
          out[g] = func === 'sum' ? this.sum[g] : this.mean[g];
          valid[g] = 1;
        }
        return float64Vector(out, valid);
      case 'std':
        for (let g = 0; g < groups; g++) {
          if (count[g] < 2) continue;
          out[g] = Math.sqrt(Math.max(0, this.m2[g]) / (count[g] - 1));
          valid[g] = 1;
        }
        return float64Vector(out, valid);
      case 'min':
      case 'max': {
        const source = func === 'min' ? this.min : this.max;
        for (let g = 0; g < groups; g++) {
          if (count[g] === 0) continue;
          out[g] = source[g];
          valid[g] = 1;
        }
        return this.kind === 'timestamp' ? toVector({ kind: 'timestamp', values: out, valid }, groups) : float64Vector(out, valid);
      }
      case 'median':
        for (let g = 0; g < groups; g++) {
          const sample = this.samples[g];
          if (!sample || sample.length === 0) continue;
          out[g] = quantileOfSorted(Float64Array.from(sample).sort(), 0.5);
          valid[g] = 1;
        }
        return float64Vector(out, valid);
      case 'first':
      case 'last':
        return this.endsVector(func === 'first' ? this.first : this.last, groups);
    }
  }

  private endsVector(values: unknown[], groups: number): Vector {
    const valid = Uint8Array.from({ length: groups }, (_, g) => (values[g] === undefined ? 0 : 1));
    const kind = this.kind === 'other' ? 'string' : this.kind;
    const at = (g: number): unknown => values[g];
    let col: Col;
    switch (kind) {
      case 'float':
      case 'int':
      case 'timestamp':
        col = { kind, values: Float64Array.from({ length: groups }, (_, g) => (at(g) as number | undefined) ?? 0), valid };
        break;
      case 'bigint':
        col = { kind, values: BigInt64Array.from({ length: groups }, (_, g) => (at(g) as bigint | undefined) ?? 0n), valid };
        break;
      case 'bool':
        col = { kind, values: Uint8Array.from({ length: groups }, (_, g) => (at(g) ? 1 : 0)), valid };
        break;
      case 'null':
        col = { kind, values: null, valid };
        break;
      default:
        col = { kind: 'string', values: Array.from({ length: groups }, (_, g) => String(at(g) ?? '')), valid };
    }
    return toVector(col, groups);
  }
}

/** Linear interpolation between closest ranks (pandas' default, DuckDB's quantile_cont). */
export function quantileOfSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const position = (n - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(n - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}
