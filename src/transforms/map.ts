import { Type, type Static } from '@sinclair/typebox';
import { Field, Schema, type RecordBatch, type Vector } from 'apache-arrow';
import { map } from 'rxjs';
import { withData } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import { registry } from '../core/registry.js';
import { recordBatchOf } from './arrow-ops.js';
import { castVector, type CastTarget } from './expression/cast.js';
import { compileExpression, type CompiledExpression } from './expression/index.js';
import { ExpressionString } from './expression/schema.js';

const NameMap = Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }));

export const MapConfig = Type.Object(
  {
    field_mapping: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description: 'Source name to target name, as in sync rules: `{ "ResourceId": "resource_id" }`. Same as rename.',
      }),
    ),
    rename: Type.Optional({ ...NameMap, description: 'Old column name to new name.' }),
    compute: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), ExpressionString(), {
        description: 'New or replaced columns from expressions over the (renamed) input columns.',
        examples: [{ cost_eur: 'round(cost * 0.92, 2)', day: "date_trunc('day', collected_at)" }],
      }),
    ),
    cast: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Union(['int', 'float', 'string', 'bool', 'timestamp', 'date'].map((t) => Type.Literal(t))),
        { description: 'Column to type: int (Int64), float, string, bool, timestamp (ms, UTC) or date. Unconvertible values become null.' },
      ),
    ),
    drop: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Columns to remove.' })),
    select: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Columns to keep, in this order.' })),
  },
  { additionalProperties: false },
);
export type MapConfig = Static<typeof MapConfig>;

interface Column {
  field: Field;
  vector: Vector;
}

function missing(option: string, name: string, columns: Column[]): never {
  const available = columns.map((c) => c.field.name).join(', ') || 'none';
  throw new SluiceError(
    'SLUICE_TRANSFORM_FAILED',
    `map: ${option} names column '${name}', which the batch does not have (columns: ${available})`,
    {
      issues: [{ path: `config.${option}`, message: `no column '${name}'` }],
    },
  );
}

function indexOf(columns: Column[], name: string): number {
  return columns.findIndex((c) => c.field.name === name);
}

/**
 * `map`: reshapes columns, in this order: rename (`field_mapping` and `rename`), `compute`
 * (expressions see the renamed columns; a name that exists is replaced in place, a new one is
 * appended), `cast`, `drop`, then `select` (keeps and orders). Column-wise; the input batch is
 * never modified and rows are never touched one by one except in casts.
 *
 * @example
 * { type: 'map', config: { field_mapping: { ResourceId: 'resource_id' }, compute: { cost_k: 'cost / 1000' }, drop: ['raw'] } }
 */
export const mapTransform = registry.transform({
  type: 'map',
  description: 'Renames, computes, casts, drops and selects columns.',
  configSchema: MapConfig,
  create(config) {
    const renames = Object.entries({ ...config.field_mapping, ...config.rename });
    const computes = Object.entries(config.compute ?? {}).map(([name, text]): [string, CompiledExpression] => [
      name,
      compileExpression(text),
    ]);
    const casts = Object.entries(config.cast ?? {}) as [string, CastTarget][];

    const apply = (data: RecordBatch): RecordBatch => {
      let columns: Column[] = data.schema.fields.map((field, i) => ({ field, vector: data.getChildAt(i)! }));
      const original = columns;

      columns = columns.slice();
      for (const [from, to] of renames) {
        const index = indexOf(original, from);
        if (index < 0) missing(config.rename && from in config.rename ? 'rename' : 'field_mapping', from, original);
        const field = original[index].field;
        columns[index] = { field: new Field(to, field.type, field.nullable, field.metadata), vector: original[index].vector };
      }
      const names = new Set<string>();
      for (const { field } of columns) {
        if (names.has(field.name)) {
          throw new SluiceError('SLUICE_TRANSFORM_FAILED', `map: renaming gives two columns named '${field.name}'`, {
            issues: [{ path: 'config.rename', message: `duplicate column '${field.name}'` }],
          });
        }
        names.add(field.name);
      }

      if (computes.length > 0) {
        const renamed = recordBatchOf(
          new Schema(
            columns.map((c) => c.field),
            data.schema.metadata,
          ),
          columns.map((c) => c.vector),
          data.numRows,
        );
        const results = computes.map(([name, expr]) => ({ name, vector: expr.evaluate(renamed) }));
        for (const { name, vector } of results) {
          const index = indexOf(columns, name);
          const field = new Field(name, vector.type, true, index >= 0 ? columns[index].field.metadata : undefined);
          if (index >= 0) columns[index] = { field, vector };
          else columns.push({ field, vector });
        }
      }

      for (const [name, target] of casts) {
        const index = indexOf(columns, name);
        if (index < 0) missing('cast', name, columns);
        const vector = castVector(columns[index].vector, target);
        const field = columns[index].field;
        columns[index] = { field: new Field(name, vector.type, true, field.metadata), vector };
      }

      if (config.drop) {
        for (const name of config.drop) if (indexOf(columns, name) < 0) missing('drop', name, columns);
        const dropped = new Set(config.drop);
        columns = columns.filter((c) => !dropped.has(c.field.name));
      }

      if (config.select) {
        columns = config.select.map((name) => {
          const index = indexOf(columns, name);
          if (index < 0) missing('select', name, columns);
          return columns[index];
        });
      }

      return recordBatchOf(
        new Schema(
          columns.map((c) => c.field),
          data.schema.metadata,
        ),
        columns.map((c) => c.vector),
        data.numRows,
      );
    };

    return map((batch) => withData(batch, apply(batch.data)));
  },
});
