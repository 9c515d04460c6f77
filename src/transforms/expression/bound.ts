import type { RecordBatch } from 'apache-arrow';
import type { LiteralValue, SourcePos } from './ast.js';
import type { Col, Kind } from './columns.js';

/** What one evaluation of a bound expression over a batch shares between its nodes. */
export interface EvalContext {
  batch: RecordBatch;
  n: number;
  /** `now()` for this batch: one instant for every row. */
  now: number;
  /** Columns already read from the batch, by field index. */
  loaded: Map<number, Col>;
}

/** An expression node checked against a schema: its result kind and how to compute it. */
export interface Bound {
  kind: Kind;
  pos: SourcePos;
  run(ctx: EvalContext): Col;
  /** Set for literals, so patterns and `in` lists can be prepared once. */
  literal?: { value: LiteralValue };
}
