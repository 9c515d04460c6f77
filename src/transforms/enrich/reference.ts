import { Table, vectorFromArray, RecordBatch, Schema, type Vector } from 'apache-arrow';
import { lastValueFrom, tap } from 'rxjs';
import { recordBatchFromRows, recordBatchFromTable } from '../../core/batch.js';
import { checkConnectorConfig, parseConnectorConfig } from '../../core/definition-config.js';
import { SluiceError, type ErrorIssue } from '../../core/errors.js';
import type { TransformContext } from '../../core/ports.js';
import { registry } from '../../core/registry.js';
import { recordBatchOf } from '../arrow-ops.js';
import { KeyIndex } from '../columns/key-index.js';

/** A keyed reference dataset: one batch whose last row is all null (the "no match" row). */
export interface Reference {
  data: RecordBatch;
  keys: KeyIndex;
  /** Reference row of each key group (the first row with that key). */
  rowOfGroup: Int32Array;
  nullRow: number;
}

type SourceSpec = { type: string; config?: unknown };

/** A reference source names a connector with a source, and a config that source accepts. */
export function referenceSourceIssues(spec: SourceSpec, path: string): ErrorIssue[] {
  const definition = registry.getConnector(spec.type);
  if (!definition?.createSource) {
    return [
      {
        path: `${path}.type`,
        message: `no connector with a source of type '${spec.type}' (types: ${registry.connectorTypes().join(', ')})`,
      },
    ];
  }
  return checkConnectorConfig(definition, spec.config, 'source', `${path}.config`).issues;
}

/**
 * Reads every partition of a registered connector's source to completion, e.g.
 * `{ type: 'file', config: { path: 'ref/regions.csv' } }` or a PostgreSQL query.
 */
export async function readSource(spec: SourceSpec, ctx: TransformContext, path: string): Promise<RecordBatch[]> {
  const definition = registry.getConnector(spec.type)!;
  const config = parseConnectorConfig(definition, spec.config, 'source', `${path}.config`);
  const source = definition.createSource!(config, { node: ctx.node, logger: ctx.logger });
  const batches: RecordBatch[] = [];
  const controller = new AbortController();
  try {
    for (const partition of await source.partitions()) {
      // Nothing else is in flight: every batch may be emitted at once.
      const read = source.read(partition, undefined, {
        flow: { acquire: async () => undefined },
        signal: controller.signal,
        logger: ctx.logger,
        batchSize: 10_000,
      });
      await lastValueFrom(read.pipe(tap((batch) => batches.push(batch.data))), { defaultValue: undefined });
    }
  } finally {
    controller.abort();
    await source.close();
  }
  return batches;
}

/** Indexes reference batches by their key columns; the first row of a key wins. */
export function buildReference(batches: RecordBatch[], keyColumns: string[], path: string): Reference {
  const nonEmpty = batches.filter((b) => b.numRows > 0);
  if (nonEmpty.length === 0) throw new SluiceError('SLUICE_TRANSFORM_FAILED', `${path}: the reference dataset is empty`);
  const schema = nonEmpty[0].schema;
  for (const name of keyColumns) {
    if (!schema.fields.some((f) => f.name === name)) {
      throw new SluiceError(
        'SLUICE_TRANSFORM_FAILED',
        `${path}: the reference dataset has no key column '${name}' (columns: ${schema.fields.map((f) => f.name).join(', ')})`,
      );
    }
  }
  const nullRow = recordBatchOf(
    schema,
    schema.fields.map((f): Vector => vectorFromArray([null], f.type)),
    1,
  );
  const data = recordBatchFromTable(new Table([...nonEmpty, nullRow]));
  const keys = new KeyIndex(keyColumns.length);
  const n = data.numRows - 1;
  const body = data.slice(0, n);
  const ids = keys.ids(
    keyColumns.map((name) => body.getChild(name)!),
    n,
  );
  const rowOfGroup = new Int32Array(keys.size).fill(-1);
  for (let i = 0; i < n; i++) if (rowOfGroup[ids[i]] < 0) rowOfGroup[ids[i]] = i;
  return { data, keys, rowOfGroup, nullRow: n };
}

/** Inline reference rows as a batch. */
export function batchOfRows(rows: Record<string, unknown>[]): RecordBatch {
  return rows.length === 0 ? new RecordBatch(new Schema([]), undefined) : recordBatchFromRows(rows);
}
