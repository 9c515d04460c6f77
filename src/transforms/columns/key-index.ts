import { DataType, type Vector } from 'apache-arrow';
import { SluiceError } from '../../core/errors.js';
import { kindOfType, loadColumn, toVector, type Col, type Kind } from '../expression/columns.js';
import { BytesTable } from './bytes-table.js';

const LEVEL_SHIFT = 2 ** 26;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Assigns a dense id to every distinct combination of key values, across batches: the core of
 * group by, dedupe, pivot and unique checks. Each key column is coded value by value through one
 * Map per column (dictionary columns code their dictionary once), then codes are combined level
 * by level; rows never become objects. Nulls form a group of their own, as in SQL GROUP BY;
 * NaN equals NaN and -0 equals 0.
 */
export class KeyIndex {
  private readonly codes: Map<unknown, number>[];
  private readonly values: unknown[][];
  private readonly levels: Map<number, number>[];
  /** Text key columns are coded from their bytes (decided by the first batch's type). */
  private readonly tables: (BytesTable | undefined)[] = [];
  /** Per group, the code of each key column (group * arity + column). */
  private groupCodes = new Int32Array(64);
  private groups = 0;
  private kinds: Kind[] | undefined;

  constructor(readonly arity: number) {
    this.codes = Array.from({ length: arity }, () => new Map());
    this.values = Array.from({ length: arity }, () => []);
    this.levels = Array.from({ length: Math.max(0, arity - 1) }, () => new Map());
  }

  /** Number of distinct keys seen so far. */
  get size(): number {
    return this.groups;
  }

  /** The group id of every row, given the key columns in order; new keys get the next ids. */
  ids(columns: Vector[], n: number): Int32Array {
    if (columns.length !== this.arity)
      throw new SluiceError('SLUICE_INTERNAL', `expected ${this.arity} key columns, got ${columns.length}`);
    if (!this.kinds) {
      this.kinds = columns.map((c) => keyKind(c.type as DataType));
      columns.forEach((c, i) => (this.tables[i] = isText(c.type as DataType) ? new BytesTable() : undefined));
    }
    if (this.arity === 0) {
      if (n > 0 && this.groups === 0) this.addGroup([]);
      return new Int32Array(n);
    }
    let current = this.columnCodes(0, columns[0], n);
    if (this.arity === 1) return this.groupsOfCodes(current);
    for (let c = 1; c < this.arity; c++) {
      const next = this.columnCodes(c, columns[c], n);
      const level = this.levels[c - 1];
      const combined = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const key = current[i] * LEVEL_SHIFT + next[i];
        let id = level.get(key);
        if (id === undefined) {
          id = level.size;
          if (id >= LEVEL_SHIFT) throw new SluiceError('SLUICE_TRANSFORM_FAILED', `more than ${LEVEL_SHIFT} distinct keys`);
          level.set(key, id);
        }
        combined[i] = id;
      }
      current = combined;
    }
    // The last level's ids are dense in first-seen order: they are the group ids.
    for (let i = 0; i < n; i++) {
      if (current[i] === this.groups) this.addGroupFromRow(i);
    }
    return current;
  }

  /** One key column: codes are dense but not in row order (dictionaries), so map them. */
  private groupOfCode = new Int32Array(0);

  private groupsOfCodes(codes: Int32Array): Int32Array {
    const values = this.tables[0]?.size ?? this.values[0].length;
    if (this.groupOfCode.length < values) {
      const grown = new Int32Array(Math.max(values, this.groupOfCode.length * 2)).fill(-1);
      grown.set(this.groupOfCode);
      this.groupOfCode = grown;
    }
    const map = this.groupOfCode;
    const out = new Int32Array(codes.length);
    for (let i = 0; i < codes.length; i++) {
      let g = map[codes[i]];
      if (g < 0) {
        g = this.groups;
        map[codes[i]] = g;
        this.groupCodes[this.reserveGroup()] = codes[i];
      }
      out[i] = g;
    }
    return out;
  }

  /**
   * The group id of every row whose key is known, -1 for the others; adds nothing (joins
   * against a reference dataset).
   */
  lookup(columns: Vector[], n: number): Int32Array {
    if (!this.kinds || this.arity === 0) return new Int32Array(n).fill(this.arity === 0 && this.groups > 0 ? 0 : -1);
    this.inserting = false;
    try {
      let current = this.columnCodes(0, columns[0], n);
      if (this.arity === 1) return current.map((code) => (code >= 0 && code < this.groupOfCode.length ? this.groupOfCode[code] : -1));
      for (let c = 1; c < this.arity; c++) {
        const next = this.columnCodes(c, columns[c], n);
        const level = this.levels[c - 1];
        const combined = new Int32Array(n);
        for (let i = 0; i < n; i++)
          combined[i] = current[i] < 0 || next[i] < 0 ? -1 : (level.get(current[i] * LEVEL_SHIFT + next[i]) ?? -1);
        current = combined;
      }
      return current;
    } finally {
      this.inserting = true;
    }
  }

  private inserting = true;

  /** Key values of every group, as vectors (one per key column) in group id order. */
  keyVectors(): Vector[] {
    return Array.from({ length: this.arity }, (_, c) => this.keyVector(c, (g) => g, this.groups));
  }

  /** Key values of the given groups, in that order. */
  keyVectorsOf(groups: ArrayLike<number>): Vector[] {
    return Array.from({ length: this.arity }, (_, c) => this.keyVector(c, (i) => groups[i], groups.length));
  }

  /** The value of key column `column` for a group (null for the null key). */
  keyValue(group: number, column: number): unknown {
    const code = this.groupCodes[group * this.arity + column];
    const table = this.tables[column];
    return table ? table.value(code) : this.values[column][code];
  }

  private keyVector(column: number, groupAt: (i: number) => number, n: number): Vector {
    const kind = this.kinds?.[column] ?? 'null';
    const valid = new Uint8Array(n);
    const raw: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = this.keyValue(groupAt(i), column);
      raw[i] = v;
      valid[i] = v === null ? 0 : 1;
    }
    let col: Col;
    switch (kind) {
      case 'float':
      case 'int':
      case 'timestamp':
        col = { kind, values: Float64Array.from(raw, (v) => (v === null ? 0 : (v as number))), valid };
        break;
      case 'bigint':
        col = { kind, values: BigInt64Array.from(raw, (v) => (v === null ? 0n : BigInt(v as bigint | number))), valid };
        break;
      case 'bool':
        col = { kind, values: Uint8Array.from(raw, (v) => (v ? 1 : 0)), valid };
        break;
      case 'null':
        col = { kind, values: null, valid };
        break;
      default:
        col = { kind: 'string', values: raw.map((v) => (v === null ? '' : String(v))), valid };
    }
    return toVector(col, n);
  }

  private addGroupFromRow(row: number): void {
    const base = this.reserveGroup();
    for (let c = 0; c < this.arity; c++) this.groupCodes[base + c] = this.lastCodes[c][row];
  }

  private lastCodes: Int32Array[] = [];

  private addGroup(codes: number[]): void {
    const base = this.reserveGroup();
    for (let c = 0; c < codes.length; c++) this.groupCodes[base + c] = codes[c];
  }

  /** Makes room for one more group; returns where its codes go. */
  private reserveGroup(): number {
    if ((this.groups + 1) * this.arity > this.groupCodes.length) {
      const grown = new Int32Array(Math.max(64, this.groupCodes.length * 2, (this.groups + 1) * this.arity));
      grown.set(this.groupCodes);
      this.groupCodes = grown;
    }
    return this.groups++ * this.arity;
  }

  /** Codes of one key column's values (and remembers them for new groups of this batch). */
  private columnCodes(column: number, vector: Vector, n: number): Int32Array {
    const table = this.tables[column];
    if (table) {
      const out = textCodes(table, vector, n, this.inserting);
      this.lastCodes[column] = out;
      return out;
    }
    const map = this.codes[column];
    const values = this.values[column];
    const out = new Int32Array(n);
    const code = (raw: unknown): number => {
      // Int64 keys equal to numbers when exact, so an Int64 column joins an Int32 one.
      const value = typeof raw === 'bigint' && raw >= MIN_SAFE && raw <= MAX_SAFE ? Number(raw) : raw;
      let c = map.get(value);
      if (c === undefined && !this.inserting) return -1;
      if (c === undefined) {
        c = values.length;
        map.set(value, c);
        values.push(value);
      }
      return c;
    };
    const type = vector.type as DataType;
    const data = vector.data.length === 1 ? vector.data[0] : undefined;
    if (data && DataType.isDictionary(type) && data.dictionary) {
      // Code each dictionary word once, then map the indices.
      const dictionary = data.dictionary;
      const words = new Int32Array(dictionary.length);
      for (let d = 0; d < dictionary.length; d++) words[d] = code(normalize(dictionary.get(d)));
      const indices = data.values as ArrayLike<number | bigint>;
      const nullCode = code(null);
      const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
      for (let i = 0; i < n; i++) {
        const j = data.offset + i;
        out[i] = bitmap && !((bitmap[j >> 3] >> (j & 7)) & 1) ? nullCode : words[Number(indices[i])];
      }
    } else {
      const col = loadColumn(vector, keyKind(type));
      const valid = col.valid;
      const raw = col.values as ArrayLike<unknown> | null;
      let nullCode = -1;
      for (let i = 0; i < n; i++) {
        if (raw === null || (valid !== null && valid[i] === 0)) {
          if (nullCode < 0) nullCode = code(null);
          out[i] = nullCode;
        } else {
          out[i] = code(raw[i]);
        }
      }
    }
    this.lastCodes[column] = out;
    return out;
  }
}

function isText(type: DataType): boolean {
  return DataType.isUtf8(type) || (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary));
}

function bitSet(bitmap: Uint8Array | undefined, j: number): boolean {
  return bitmap === undefined || ((bitmap[j >> 3] >> (j & 7)) & 1) === 1;
}

/** Codes of a text column straight from its Utf8 bytes (dictionaries: each word once). */
function textCodes(table: BytesTable, vector: Vector, n: number, insert: boolean): Int32Array {
  const out = new Int32Array(n);
  const type = vector.type as DataType;
  const data = vector.data.length === 1 ? vector.data[0] : undefined;
  const bitmap = data && data.nullCount > 0 ? data.nullBitmap : undefined;
  if (data && DataType.isUtf8(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < n; i++)
      out[i] = bitSet(bitmap, data.offset + i) ? table.codeOf(bytes, offsets[i], offsets[i + 1], insert) : table.codeOfNull(insert);
    return out;
  }
  if (data && DataType.isDictionary(type) && data.dictionary) {
    const words = textCodes(table, data.dictionary, data.dictionary.length, insert);
    const indices = data.values as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) out[i] = bitSet(bitmap, data.offset + i) ? words[Number(indices[i])] : table.codeOfNull(insert);
    return out;
  }
  // Several chunks or another type: through strings (rare).
  const col = loadColumn(vector, 'string');
  const values = col.values as string[];
  for (let i = 0; i < n; i++) {
    if (col.valid && !col.valid[i]) out[i] = table.codeOfNull(insert);
    else {
      const bytes = Buffer.from(values[i], 'utf8');
      out[i] = table.codeOf(bytes, 0, bytes.length, insert);
    }
  }
  return out;
}

function keyKind(type: DataType): Kind {
  const kind = kindOfType(type);
  return kind === 'other' ? 'string' : kind;
}

/** Dictionary words are looked up by value, like the plain column they stand for. */
function normalize(value: unknown): unknown {
  return value === undefined ? null : value;
}
