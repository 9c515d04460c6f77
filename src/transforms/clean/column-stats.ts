import type { Vector } from 'apache-arrow';
import { quantileOfSorted } from '../columns/group-aggregates.js';
import { KeyIndex } from '../columns/key-index.js';
import { readNumbers } from '../columns/numbers.js';

/**
 * Whole-column statistics gathered batch by batch: count, min, max, mean and std as running
 * values (Welford), a copy of the values only when quantiles are wanted, and value counts for
 * the mode. Nulls and NaN are skipped.
 */
export class ColumnStats {
  private mean_ = 0;
  private m2 = 0;

  constructor(private readonly keepValues = true) {}

  private readonly parts: Float64Array[] = [];
  count = 0;
  private sum = 0;
  /** Smallest and largest value (Infinity, -Infinity before any). */
  min = Infinity;
  max = -Infinity;
  private keys: KeyIndex | undefined;
  private counts = new Float64Array(0);
  private sorted: Float64Array | undefined;

  add(vector: Vector, forMode: boolean): void {
    if (forMode) {
      this.keys ??= new KeyIndex(1);
      const ids = this.keys.ids([vector], vector.length);
      if (this.counts.length < this.keys.size) {
        const grown = new Float64Array(Math.max(this.keys.size, this.counts.length * 2));
        grown.set(this.counts);
        this.counts = grown;
      }
      for (let i = 0; i < ids.length; i++) this.counts[ids[i]]++;
      return;
    }
    const { values, valid, count } = readNumbers(vector);
    const part = this.keepValues ? new Float64Array(count) : undefined;
    let seen = this.count;
    let mean = this.mean_;
    let m2 = this.m2;
    for (let i = 0, j = 0; i < values.length; i++) {
      if (!valid[i]) continue;
      const x = values[i];
      if (part) part[j++] = x;
      this.sum += x;
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
      const delta = x - mean;
      mean += delta / ++seen;
      m2 += delta * (x - mean);
    }
    this.mean_ = mean;
    this.m2 = m2;
    if (part) this.parts.push(part);
    this.count += count;
    this.sorted = undefined;
  }

  mean(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }

  /** Sample standard deviation. */
  std(): number | undefined {
    return this.count < 2 ? undefined : Math.sqrt(Math.max(0, this.m2) / (this.count - 1));
  }

  /** Needs the values: only for stats built with `keepValues`. */
  quantile(q: number): number | undefined {
    if (this.count === 0 || !this.keepValues) return undefined;
    if (!this.sorted) {
      const all = new Float64Array(this.count);
      let offset = 0;
      for (const part of this.parts) {
        all.set(part, offset);
        offset += part.length;
      }
      this.sorted = all.sort();
    }
    return quantileOfSorted(this.sorted, q);
  }

  /** The most frequent non-null value; ties go to the smallest, as pandas' mode()[0]. */
  mode(): unknown {
    if (!this.keys) return undefined;
    let best: unknown;
    let bestCount = 0;
    for (let g = 0; g < this.keys.size; g++) {
      const value = this.keys.keyValue(g, 0);
      if (value === null || value !== value) continue;
      const count = this.counts[g];
      if (count > bestCount || (count === bestCount && (value as number) < (best as number))) {
        best = value;
        bestCount = count;
      }
    }
    return best;
  }
}
