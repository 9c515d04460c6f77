import type { RecordBatch, Vector } from 'apache-arrow';
import { Schema } from 'apache-arrow';
import type { Batch } from '../core/batch.js';
import { SluiceError } from '../core/errors.js';
import type { Sink, SinkOpenContext } from '../core/ports.js';
import type { Logger } from '../core/logger.js';
import { textFormatter, type TextFormatter } from '../connectors/postgresql/pg-text.js';
import {
  OP_COLUMN,
  Op,
  isReservedColumn,
  keyColumnsOf,
  keyMetadata,
  opReader,
  opVector,
  ROW_HASH_COLUMN,
  type ChangeOp,
} from '../core/changelog.js';
import { recordBatchOf, takeRows, withColumns } from '../transforms/arrow-ops.js';
import { KeyState, type KeyEntry } from '../state/key-state.js';
import { keyString } from '../core/row-hash.js';
import { KeyHashSet } from '../state/key-hash-set.js';
import { deleteBatch } from '../connectors/kit/delete-batch.js';
import { rowHashes } from './batch-hash.js';

export interface SyncSinkOptions {
  state: KeyState;
  /** Redis hash of the run's counters (see RunCounters). */
  countersKey: string;
  /** Key columns (target names); default: the key the batches declare. */
  key?: string[];
  /** Full and snapshot sync: keys held in state that the run never saw were deleted at the source. */
  trackDeletes: boolean;
  /** Operations passed on to the target (c = INSERT, u = UPDATE, d = DELETE). */
  operations: Set<'c' | 'u' | 'd'>;
  /** Releases what the sink was built over (its Redis connection). */
  onClose?: () => Promise<void>;
}

/**
 * The change detector in front of a sync target. Each batch (plain rows of a full or snapshot
 * read, watermark pages of an incremental read, or a CDC changelog) is compared per key with the
 * row hashes held in Redis; only keys that are new (`c`), changed (`u`) or gone (`d`) reach the
 * target, as one changelog batch. State moves only after the target acknowledged the batch, so a
 * crash in between replays the change (the target upserts by key) and never loses it.
 */
export class SyncSink implements Sink {
  private readonly seen = new KeyHashSet();
  private key: string[] | undefined;
  private logger: Logger | undefined;

  constructor(
    private readonly target: Sink,
    private readonly options: SyncSinkOptions,
  ) {}

  async open(ctx: SinkOpenContext): Promise<void> {
    this.logger = ctx.logger;
    await this.target.open?.(ctx);
  }

  async write(batch: Batch, signal?: AbortSignal): Promise<void> {
    const data = batch.data;
    if (data.numRows === 0) return;
    const key = this.keyOf(data);
    const keyFormatters = key.map((k) => formatterOf(data, k));
    // A source that hashed its rows itself (a sync hash push-down source) also counted them.
    const given = data.getChild(ROW_HASH_COLUMN) as Vector | null;
    const compared = data.schema.fields
      .map((f) => f.name)
      .filter((n) => !isReservedColumn(n) && n !== ROW_HASH_COLUMN && !key.includes(n))
      .sort();
    const hashes = given ? (given.toArray() as (string | null)[]) : rowHashes(data, compared);
    const opOf = opReader(data);

    // The last change of a key in the batch is its net effect (keys are distinct in the output).
    const lastRow = new Map<string, number>();
    for (let row = 0; row < data.numRows; row++) {
      lastRow.set(keyString(keyFormatters.map((f) => f(row))), row);
    }
    const keys = [...lastRow.keys()];
    const entries = await this.options.state.getMany(keys);
    const rows: number[] = [];
    const opsOut: ChangeOp[] = [];
    const sets: Array<[string, KeyEntry]> = [];
    const deletes: string[] = [];
    const counts = { read: given ? 0 : data.numRows, inserted: 0, updated: 0, deleted: 0, unchanged: 0, filtered: 0 };
    keys.forEach((k, i) => {
      const row = lastRow.get(k)!;
      const entry = entries[i];
      if (opOf(row) === Op.delete) {
        if (!entry) return void counts.unchanged++;
        if (!this.options.operations.has('d')) return void counts.filtered++;
        rows.push(row);
        opsOut.push('d');
        deletes.push(k);
        counts.deleted++;
        return;
      }
      if (this.options.trackDeletes) this.seen.add(k);
      const hash = hashes[row]!;
      if (entry?.hash === hash) return void counts.unchanged++;
      const change = entry ? 'u' : 'c';
      if (!this.options.operations.has(change)) return void counts.filtered++;
      rows.push(row);
      opsOut.push(change);
      sets.push([k, { hash, version: (entry?.version ?? 0) + 1 }]);
      if (change === 'c') counts.inserted++;
      else counts.updated++;
    });
    if (rows.length > 0) {
      const picked = takeRows(given ? withoutColumn(data, ROW_HASH_COLUMN) : data, Int32Array.from(rows));
      const changelog = withColumns(withKey(picked, key), [{ name: OP_COLUMN, vector: opVector(opsOut) }]);
      await this.target.write({ data: changelog, meta: { ...batch.meta, kind: 'changelog' } }, signal);
    }
    await this.options.state.apply(sets, deletes, { key: this.options.countersKey, values: counts });
  }

  /**
   * Full and snapshot sync: deletes, at the target, every key the state holds and this run did
   * not see; then lets the target publish.
   */
  async finish(): Promise<void> {
    const key = this.key ?? this.options.key;
    if (this.options.trackDeletes && key) {
      for await (const page of this.options.state.entries()) {
        const gone = page.map(([k]) => k).filter((k) => !this.seen.has(k));
        if (gone.length === 0) continue;
        if (!this.options.operations.has('d')) {
          await this.options.state.apply([], [], { key: this.options.countersKey, values: { filtered: gone.length } });
          continue;
        }
        await this.target.write({
          data: deleteBatch(key, gone),
          meta: { stream: 'sync', partition: 'deletes', position: undefined, kind: 'changelog' },
        });
        await this.options.state.apply([], gone, { key: this.options.countersKey, values: { deleted: gone.length } });
      }
    } else if (this.options.trackDeletes) {
      this.logger?.warn('sync: the source was empty and the rule names no primary_key: deletes not applied');
    }
    await this.target.finish?.();
  }

  async close(): Promise<void> {
    await this.target.close();
    await this.options.onClose?.();
  }

  private keyOf(data: RecordBatch): string[] {
    if (this.key) return this.key;
    const declared = keyColumnsOf(data.schema);
    const key = this.options.key ?? (declared.length > 0 ? declared : undefined);
    if (!key || key.length === 0) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', 'sync: no key columns: set filters.primary_key or read a table with a primary key', {
        issues: [{ path: 'rule.filters.primary_key', message: 'required when the source declares no key' }],
      });
    }
    this.key = key;
    return key;
  }
}

function formatterOf(data: RecordBatch, column: string): TextFormatter {
  const vector = data.getChild(column);
  if (!vector)
    throw new SluiceError(
      'SLUICE_RECORD_INVALID',
      `sync: batch has no column '${column}' (columns: ${data.schema.fields.map((f) => f.name).join(', ')})`,
      { retriable: false },
    );
  return textFormatter(vector);
}

function withoutColumn(data: RecordBatch, name: string): RecordBatch {
  const keep = data.schema.fields.map((f, i) => [f, i] as const).filter(([f]) => f.name !== name);
  return recordBatchOf(
    new Schema(
      keep.map(([f]) => f),
      data.schema.metadata,
    ),
    keep.map(([, i]) => data.getChildAt(i)!),
    data.numRows,
  );
}

/** The batch declaring `key` as its key columns (the target applies changes by it). */
function withKey(data: RecordBatch, key: string[]): RecordBatch {
  return recordBatchOf(
    new Schema(data.schema.fields, keyMetadata(key, data.schema.metadata)),
    data.schema.fields.map((_, i) => data.getChildAt(i)!),
    data.numRows,
  );
}
