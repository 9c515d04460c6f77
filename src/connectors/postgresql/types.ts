import {
  Binary,
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  TimeUnit,
  Timestamp,
  Utf8,
  type DataType,
} from 'apache-arrow';
import type { Client } from 'pg';

/** What Sluice knows of a PostgreSQL type: enough to pick an Arrow type and parse its text form. */
export interface PgType {
  oid: number;
  /** `pg_type.typname` of the type (of the base type for a domain). */
  name: string;
  kind: 'scalar' | 'enum' | 'array';
  element?: PgType;
}

/** Field metadata naming the PostgreSQL type a column came from (used to recreate it in a sink). */
export const PG_TYPE_META = 'sluice.pg_type';

/** Names whose text form maps to a dedicated Arrow type; every other type travels as its text. */
const ARROW_TYPES: Record<string, () => DataType> = {
  int2: () => new Int16(),
  int4: () => new Int32(),
  int8: () => new Int64(),
  float4: () => new Float32(),
  float8: () => new Float64(),
  bool: () => new Bool(),
  date: () => new DateDay(),
  timestamp: () => new Timestamp(TimeUnit.MICROSECOND),
  timestamptz: () => new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
  bytea: () => new Binary(),
};

/** Built-in types a sink may recreate by name from `sluice.pg_type` metadata. */
const BUILTIN_NAMES = new Set([
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'bool',
  'date',
  'timestamp',
  'timestamptz',
  'bytea',
  'text',
  'varchar',
  'bpchar',
  'name',
  'numeric',
  'uuid',
  'json',
  'jsonb',
  'interval',
  'time',
  'timetz',
  'inet',
  'cidr',
  'macaddr',
  'money',
  'xml',
  'oid',
]);

/** The Arrow type of a PostgreSQL type: numeric, uuid, json, enums and unknown types stay text (exact). */
export function arrowTypeOf(type: PgType): DataType {
  if (type.kind === 'array') return new List(new Field('item', arrowTypeOf(type.element!), true));
  if (type.kind === 'enum') return new Utf8();
  return ARROW_TYPES[type.name]?.() ?? new Utf8();
}

/** The Arrow field of a column, its PostgreSQL type kept in the field metadata. */
export function arrowFieldOf(name: string, type: PgType): Field {
  const pgName =
    type.kind === 'array' ? `${type.element!.kind === 'enum' ? 'text' : type.element!.name}[]` : type.kind === 'enum' ? 'text' : type.name;
  return new Field(name, arrowTypeOf(type), true, new Map([[PG_TYPE_META, pgName]]));
}

/** The column type to declare for an Arrow field when a sink creates or extends a table. */
export function pgTypeOfField(field: Field): string {
  const meta = field.metadata.get(PG_TYPE_META);
  if (meta && BUILTIN_NAMES.has(meta.replace(/\[\]$/, ''))) return meta;
  return pgTypeOfArrow(field.type);
}

function pgTypeOfArrow(type: DataType): string {
  const name = type.constructor.name;
  if (type instanceof List) return `${pgTypeOfArrow(type.children[0].type)}[]`;
  if (type instanceof Timestamp) return type.timezone ? 'timestamptz' : 'timestamp';
  if (type instanceof Bool) return 'bool';
  if (type instanceof Binary) return 'bytea';
  if (/^Int(8|16)$|^Uint8$/.test(name)) return 'int2';
  if (/^Int32$|^Uint16$/.test(name)) return 'int4';
  if (/^Int64$|^Uint32$|^Int$/.test(name)) return 'int8';
  if (/^Uint64$|^Decimal$/.test(name)) return 'numeric';
  if (/^Float32$|^Float16$/.test(name)) return 'float4';
  if (/^Float(64)?$/.test(name)) return 'float8';
  if (/^Date/.test(name)) return 'date';
  return 'text';
}

/** Resolves type OIDs through `pg_type`, once each: enums, domains and arrays of any of them. */
export class TypeResolver {
  private readonly cache = new Map<number, PgType>();

  constructor(private readonly client: Client) {}

  async resolve(oids: number[]): Promise<PgType[]> {
    const missing = [...new Set(oids.filter((oid) => !this.cache.has(oid)))];
    while (missing.length > 0) {
      const { rows } = await this.client.query<{
        oid: number;
        typname: string;
        typtype: string;
        typelem: number;
        typcategory: string;
        typbasetype: number;
      }>('select oid::int, typname, typtype, typelem::int, typcategory, typbasetype::int from pg_type where oid = any($1::oid[])', [
        missing.splice(0),
      ]);
      const pending = new Map(rows.map((r) => [r.oid, r]));
      // Arrays, domains: resolve what they point at first.
      const next = rows
        .flatMap((r) => [r.typcategory === 'A' ? r.typelem : 0, r.typtype === 'd' ? r.typbasetype : 0])
        .filter((o) => o && !this.cache.has(o) && !pending.has(o));
      if (next.length > 0) await this.resolve(next);
      for (const r of rows) this.cache.set(r.oid, this.describe(r));
    }
    return oids.map((oid) => this.cache.get(oid) ?? { oid, name: 'text', kind: 'scalar' });
  }

  private describe(r: {
    oid: number;
    typname: string;
    typtype: string;
    typelem: number;
    typcategory: string;
    typbasetype: number;
  }): PgType {
    if (r.typtype === 'd') return { ...this.cache.get(r.typbasetype)!, oid: r.oid };
    if (r.typcategory === 'A' && r.typelem) return { oid: r.oid, name: r.typname, kind: 'array', element: this.cache.get(r.typelem) };
    if (r.typtype === 'e') return { oid: r.oid, name: r.typname, kind: 'enum' };
    return { oid: r.oid, name: r.typname, kind: 'scalar' };
  }
}
