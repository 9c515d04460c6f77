import {
  Dictionary,
  Float64,
  Int32,
  Int64,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
  Table,
  type RecordBatch,
  type Vector,
} from 'apache-arrow';
import { recordBatchFromTable } from '../../../src/core/batch.js';
import type { SqlType } from './duck.js';
import { prng as rng } from '../../../scripts/prng.js';

export { rng };

const WORDS = ['eu-west', 'us-east', 'héllo', '😀 zone', 'ap-south', "o'brien", ''];

export type RandomRow = {
  id: number;
  g: string | null;
  h: number | null;
  x: number | null;
  k: bigint | null;
  ts: number | null;
  empty: null;
};

export const SQL_COLUMNS: Record<keyof RandomRow, SqlType> = {
  id: 'INTEGER',
  g: 'VARCHAR',
  h: 'INTEGER',
  x: 'DOUBLE',
  k: 'BIGINT',
  ts: 'TIMESTAMP',
  empty: 'DOUBLE',
};

/** Rows with nulls, NaN, unicode, bigint and timestamps; `x` is NaN sometimes. */
export function randomRows(random: () => number, n: number): RandomRow[] {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  return Array.from({ length: n }, (_, id) => ({
    id,
    g: random() < 0.1 ? null : pick(WORDS),
    h: random() < 0.1 ? null : Math.floor(random() * 4),
    x: random() < 0.1 ? null : random() < 0.05 ? Number.NaN : Math.round((random() * 200 - 50) * 100) / 100,
    k: random() < 0.1 ? null : BigInt(Math.floor(random() * 1e6)) * (random() < 0.1 ? 1_000_000n : 1n),
    ts: random() < 0.05 ? null : Date.UTC(2024, 0, 1) + Math.floor(random() * 86_400_000),
    empty: null,
  }));
}

/** Splits rows into batches of random sizes, including empty and one-row batches. */
export function splitRandomly<T>(random: () => number, rows: T[]): T[][] {
  const parts: T[][] = [];
  let i = 0;
  while (i < rows.length) {
    const size = random() < 0.15 ? 0 : random() < 0.15 ? 1 : Math.floor(random() * 200);
    parts.push(rows.slice(i, i + size));
    i += size;
  }
  parts.push([]);
  return parts;
}

/** Arrow batch of random rows: `g` dictionary-encoded, `k` Int64, `ts` timestamp ms, `empty` all null. */
export function toArrow(rows: RandomRow[]): RecordBatch {
  const vectors: Record<string, Vector> = {
    id: vectorFromArray(
      rows.map((r) => r.id),
      new Int32(),
    ),
    g: vectorFromArray(
      rows.map((r) => r.g),
      new Dictionary(new Utf8(), new Int32()),
    ),
    h: vectorFromArray(
      rows.map((r) => r.h),
      new Int32(),
    ),
    x: vectorFromArray(
      rows.map((r) => r.x),
      new Float64(),
    ),
    k: vectorFromArray(
      rows.map((r) => r.k),
      new Int64(),
    ),
    ts: vectorFromArray(
      rows.map((r) => r.ts),
      new TimestampMillisecond(),
    ),
    empty: vectorFromArray(
      rows.map(() => null),
      new Float64(),
    ),
  };
  return recordBatchFromTable(new Table(vectors));
}
