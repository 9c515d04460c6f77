import type { RecordBatch } from 'apache-arrow';
import { firstValueFrom, from, toArray } from 'rxjs';
import type { Batch } from '../../../src/core/batch.js';
import { parseTransformConfig } from '../../../src/core/definition-config.js';
import { logger } from '../../../src/core/logger.js';
import { registry } from '../../../src/core/registry.js';
import '../../../src/transforms/index.js';

/** Input batches with seqs 0..n-1 and a position per batch, as the runtime gives them. */
export function batchesOf(datas: RecordBatch[]): Batch[] {
  return datas.map((data, seq) => ({ data, meta: { stream: 's', partition: 'p0', position: { offset: seq }, kind: 'records', seq } }));
}

/** Builds a registered transform from a config (validated as a topology would). */
export function makeTransform(type: string, config: unknown, options: { unbounded?: boolean; node?: string } = {}) {
  const definition = registry.getTransform(type);
  if (!definition) throw new Error(`no transform ${type}`);
  const unbounded = options.unbounded ?? false;
  return definition.create(parseTransformConfig(definition, config, { unbounded }), { node: options.node ?? type, logger, unbounded });
}

/** Runs batches through a transform and collects every output batch. */
export async function runTransform(
  type: string,
  config: unknown,
  datas: RecordBatch[],
  options: { unbounded?: boolean } = {},
): Promise<Batch[]> {
  return firstValueFrom(from(batchesOf(datas)).pipe(makeTransform(type, config, options), toArray()));
}

/** Relative/absolute closeness for doubles computed in different orders. */
export function close(a: unknown, b: unknown, tolerance = 1e-9): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  return Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y));
}
