import type { RecordBatch, Schema, Vector, DataType } from 'apache-arrow';
import { referencedColumns, type Expr } from './ast.js';
import type { Bound, EvalContext } from './bound.js';
import { arrowTypeOf, type Kind, toVector } from './columns.js';
import { bindExpression } from './compile.js';
import { expressionError } from './lexer.js';
import { parseExpression } from './parser.js';

export interface CompileOptions {
  /** Clock for `now()`, read once per evaluated batch (tests pin it). */
  now?: () => number;
}

/** An expression checked against one schema. */
export interface BoundExpression {
  kind: Kind;
  /** Arrow type of `evaluate`'s result (a plain column reference keeps its own type). */
  type: DataType;
  evaluate(batch: RecordBatch): Vector;
  evaluateMask(batch: RecordBatch): Uint8Array;
}

export interface CompiledExpression {
  text: string;
  ast: Expr;
  /** Column names the expression reads. */
  columns: string[];
  /** Checks the expression against a schema; cached per schema shape. */
  bind(schema: Schema): BoundExpression;
  /** The expression's value for every row, as a typed Arrow vector. */
  evaluate(batch: RecordBatch): Vector;
  /** For predicates: 1 where the condition is true, 0 where it is false or null. */
  evaluateMask(batch: RecordBatch): Uint8Array;
}

/** Schemas of differing shape remembered per expression; streams rarely change shape. */
const MAX_BOUND_SCHEMAS = 16;

/**
 * Parses an expression once; binding to a batch schema checks column names and kinds, and
 * evaluation computes whole columns from the batch's typed arrays (never row objects, never eval).
 *
 * @example
 * const keep = compileExpression("region in ('eu', 'us') and cost > 10");
 * const mask = keep.evaluateMask(batch.data); // Uint8Array, 1 = keep
 * @throws SluiceError `SLUICE_EXPRESSION_INVALID` with the position, e.g. `expected ')' at 1:17`.
 */
export function compileExpression(text: string, options: CompileOptions = {}): CompiledExpression {
  const ast = parseExpression(text);
  const clock = options.now ?? Date.now;
  const byShape = new Map<string, BoundExpression>();
  const bySchema = new WeakMap<Schema, BoundExpression>();

  const bind = (schema: Schema): BoundExpression => {
    let bound = bySchema.get(schema);
    if (bound) return bound;
    const shape = schema.fields.map((f) => `${f.name}\u0000${String(f.type)}`).join('\u0001');
    bound = byShape.get(shape);
    if (!bound) {
      bound = makeBound(ast, schema, clock);
      if (byShape.size >= MAX_BOUND_SCHEMAS) byShape.delete(byShape.keys().next().value!);
      byShape.set(shape, bound);
    }
    bySchema.set(schema, bound);
    return bound;
  };

  return {
    text,
    ast,
    columns: referencedColumns(ast),
    bind,
    evaluate: (batch) => bind(batch.schema).evaluate(batch),
    evaluateMask: (batch) => bind(batch.schema).evaluateMask(batch),
  };
}

function makeBound(ast: Expr, schema: Schema, clock: () => number): BoundExpression {
  const root: Bound = bindExpression(ast, schema);
  const context = (batch: RecordBatch): EvalContext => ({ batch, n: batch.numRows, now: clock(), loaded: new Map() });
  const columnIndex = ast.kind === 'column' ? schema.fields.findIndex((f) => f.name === ast.name) : -1;
  if (root.kind === 'other' && columnIndex < 0) expressionError('this expression yields values that cannot be computed', ast.pos);
  return {
    kind: root.kind,
    type: columnIndex >= 0 ? schema.fields[columnIndex].type : arrowTypeOf(root.kind),
    evaluate(batch) {
      // A bare column reference is the column itself: no copy, type kept.
      if (columnIndex >= 0) return batch.getChildAt(columnIndex)!;
      return toVector(root.run(context(batch)), batch.numRows);
    },
    evaluateMask(batch) {
      if (root.kind !== 'bool' && root.kind !== 'null') expressionError(`a condition must be boolean, got ${root.kind}`, ast.pos);
      const n = batch.numRows;
      const mask = new Uint8Array(n);
      if (root.kind === 'null') return mask;
      const col = root.run(context(batch)) as { values: Uint8Array; valid: Uint8Array | null };
      for (let i = 0; i < n; i++) mask[i] = col.values[i] & (col.valid ? col.valid[i] : 1);
      return mask;
    },
  };
}

export { parseExpression } from './parser.js';
export { tokenize } from './lexer.js';
export type { Expr } from './ast.js';
