import { SluiceError } from '../../../core/errors.js';

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

export interface RelationColumn {
  name: string;
  typeOid: number;
  /** Part of the replica identity (key). */
  key: boolean;
}

/** A tuple: per column its text, null for SQL NULL, or `undefined` for an unchanged TOAST value. */
export type TupleValues = (string | null | undefined)[];

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'relation'; oid: number; schema: string; name: string; replicaIdentity: string; columns: RelationColumn[] }
  | { tag: 'insert'; relation: number; values: TupleValues }
  | { tag: 'update'; relation: number; old?: TupleValues; oldIsKey: boolean; values: TupleValues }
  | { tag: 'delete'; relation: number; old: TupleValues; oldIsKey: boolean }
  | { tag: 'truncate'; relations: number[] }
  | { tag: 'other'; type: string };

/** Decodes one pgoutput (protocol version 1) message; times are microseconds since the Unix epoch. */
export function decodePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const type = String.fromCharCode(r.u8());
  switch (type) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTime: r.i64() + PG_EPOCH_MICROS, xid: r.i32() };
    case 'C': {
      r.u8();
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() + PG_EPOCH_MICROS };
    }
    case 'R': {
      const oid = r.i32();
      const schema = r.cstring();
      const name = r.cstring();
      const replicaIdentity = String.fromCharCode(r.u8());
      const count = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        const flags = r.u8();
        columns.push({ name: r.cstring(), typeOid: r.i32(), key: (flags & 1) === 1 });
        r.i32();
      }
      return { tag: 'relation', oid, schema, name, replicaIdentity, columns };
    }
    case 'I': {
      const relation = r.i32();
      r.u8();
      return { tag: 'insert', relation, values: r.tuple() };
    }
    case 'U': {
      const relation = r.i32();
      let kind = String.fromCharCode(r.u8());
      let old: TupleValues | undefined;
      const oldIsKey = kind === 'K';
      if (kind === 'K' || kind === 'O') {
        old = r.tuple();
        kind = String.fromCharCode(r.u8());
      }
      return { tag: 'update', relation, old, oldIsKey, values: r.tuple() };
    }
    case 'D': {
      const relation = r.i32();
      const kind = String.fromCharCode(r.u8());
      return { tag: 'delete', relation, oldIsKey: kind === 'K', old: r.tuple() };
    }
    case 'T': {
      const count = r.i32();
      r.u8();
      return { tag: 'truncate', relations: Array.from({ length: count }, () => r.i32()) };
    }
    default:
      return { tag: 'other', type };
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  u8(): number {
    return this.buf.readUInt8(this.offset++);
  }

  i16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  i32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  tuple(): TupleValues {
    const count = this.i16();
    const values: TupleValues = new Array(count);
    for (let i = 0; i < count; i++) {
      const kind = String.fromCharCode(this.u8());
      if (kind === 'n') values[i] = null;
      else if (kind === 'u') values[i] = undefined;
      else if (kind === 't') {
        const length = this.i32();
        values[i] = this.buf.toString('utf8', this.offset, this.offset + length);
        this.offset += length;
      } else throw new SluiceError('SLUICE_SOURCE_FAILED', `pgoutput: unexpected tuple column kind '${kind}'`, { retriable: false });
    }
    return values;
  }
}
