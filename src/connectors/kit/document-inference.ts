import {
  Binary,
  Bool,
  Field,
  Float64,
  Int64,
  List,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  makeVector,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { makeColumnBuilder } from './columns/make-builder.js';

/** A document as connectors receive it: a plain object of JSON-like values, plus bigint, Date and bytes. */
export type Document = Record<string, unknown>;

export interface InferencePolicy {
  /**
   * `json-text` (default): JSON's data model. Numbers are Float64, bigints Int64, booleans Bool,
   * strings Utf8; objects, arrays and values JSON has no type for (Date, bytes) are JSON text.
   * `arrow`: objects are Struct and arrays List columns, Dates Timestamp (ms, UTC), bytes Binary.
   */
  nesting?: 'json-text' | 'arrow';
  /** With `arrow`: how many levels of Struct/List a column may have; deeper values are JSON text. Default 8. */
  maxDepth?: number;
}

/** What a column has held so far, from `none` (only nulls) up to `json` (JSON text), the widest. */
type Inferred =
  | { kind: 'none' | 'bool' | 'float64' | 'int64' | 'utf8' | 'binary' | 'timestamp' | 'json' }
  | { kind: 'list'; item: Inferred }
  | { kind: 'struct'; fields: Map<string, Inferred> };

const NONE: Inferred = { kind: 'none' };
const JSON_TEXT: Inferred = { kind: 'json' };
const SCALARS = { number: 'float64', bigint: 'int64', boolean: 'bool', string: 'utf8' } as const;

/**
 * Arrow columns inferred from documents, with one schema carried across batches: columns keep
 * the order they were first seen in, a column a batch lacks is null there, and a column's type
 * only widens, by these rules:
 *
 * - nulls (and undefined) say nothing: a column of nulls only is Utf8 until a value types it;
 * - values of one kind keep their type (see {@link InferencePolicy});
 * - with `arrow`, plain objects merge into one Struct (fields in first-seen order, each widened
 *   on its own) and arrays into one List whose item type widens over every item; other objects
 *   (class instances such as a driver's ObjectId) are JSON text, through their `toJSON` if any;
 * - only own enumerable properties are fields;
 * - any other mix (a number and a string, a number and a bigint, an object and a scalar, a value
 *   nested deeper than `maxDepth`) makes the column JSON text, for good. Strings in a JSON-text
 *   column stay as they are; other values become their JSON text (`jsonText`).
 *
 * A fresh inference per batch gives each batch the schema of its own documents.
 *
 * @example
 * const inference = new DocumentInference({ nesting: 'arrow' });
 * inference.recordBatch([{ id: 1, tags: ['a'] }]); // id: Float64, tags: List<Utf8>
 * inference.recordBatch([{ id: 'x' }]);            // id: Utf8 (JSON text), tags: List<Utf8> (null)
 */
export class DocumentInference {
  private readonly columns = new Map<string, Inferred>();
  private readonly arrow: boolean;
  private readonly maxDepth: number;

  constructor(policy: InferencePolicy = {}) {
    this.arrow = policy.nesting === 'arrow';
    this.maxDepth = policy.maxDepth ?? 8;
  }

  /** Widens the schema to hold `documents`. */
  observe(documents: Iterable<Document>): void {
    for (const document of documents) {
      for (const name of Object.keys(document)) this.columns.set(name, this.widen(this.columns.get(name) ?? NONE, document[name], 1));
    }
  }

  /** The schema inferred from every document observed so far. */
  schema(): Schema {
    return new Schema([...this.columns].map(([name, inferred]) => new Field(name, arrowType(inferred), true)));
  }

  /** Observes `documents` and builds them as one vector per column of the widened schema. */
  vectors(documents: Iterable<Document>): Map<string, Vector> {
    const list = Array.isArray(documents) ? (documents as Document[]) : [...documents];
    this.observe(list);
    const out = new Map<string, Vector>();
    for (const field of this.schema().fields) {
      const builder = makeColumnBuilder(field.type);
      for (const document of list) builder.append(document[field.name]);
      out.set(field.name, makeVector(builder.finish()));
    }
    return out;
  }

  /** Observes `documents` and builds them as one record batch of the widened schema. */
  recordBatch(documents: Iterable<Document>): RecordBatch {
    const vectors = this.vectors(documents);
    const schema = this.schema();
    const length = vectors.values().next().value?.length ?? 0;
    const children = schema.fields.map((f) => vectors.get(f.name)!.data[0]);
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
  }

  private widen(current: Inferred, value: unknown, depth: number): Inferred {
    if (value === null || value === undefined || current.kind === 'json') return current;
    const scalar = SCALARS[typeof value as keyof typeof SCALARS];
    if (scalar) return current.kind === 'none' || current.kind === scalar ? { kind: scalar } : JSON_TEXT;
    if (!this.arrow) return JSON_TEXT;
    if (value instanceof Date) return current.kind === 'none' || current.kind === 'timestamp' ? { kind: 'timestamp' } : JSON_TEXT;
    if (value instanceof Uint8Array) return current.kind === 'none' || current.kind === 'binary' ? { kind: 'binary' } : JSON_TEXT;
    if (depth > this.maxDepth) return JSON_TEXT;
    if (Array.isArray(value)) {
      if (current.kind !== 'none' && current.kind !== 'list') return JSON_TEXT;
      let item = current.kind === 'list' ? current.item : NONE;
      for (const v of value) item = this.widen(item, v, depth + 1);
      return { kind: 'list', item };
    }
    if (isPlainObject(value)) {
      if (current.kind !== 'none' && current.kind !== 'struct') return JSON_TEXT;
      const fields = current.kind === 'struct' ? current.fields : new Map<string, Inferred>();
      for (const name of Object.keys(value)) fields.set(name, this.widen(fields.get(name) ?? NONE, value[name], depth + 1));
      return { kind: 'struct', fields };
    }
    return JSON_TEXT;
  }
}

function isPlainObject(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function arrowType(inferred: Inferred): DataType {
  switch (inferred.kind) {
    case 'bool':
      return new Bool();
    case 'float64':
      return new Float64();
    case 'int64':
      return new Int64();
    case 'binary':
      return new Binary();
    case 'timestamp':
      return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    case 'list':
      return new List(new Field('item', arrowType(inferred.item), true));
    case 'struct':
      return new Struct([...inferred.fields].map(([name, f]) => new Field(name, arrowType(f), true)));
    default:
      return new Utf8();
  }
}
