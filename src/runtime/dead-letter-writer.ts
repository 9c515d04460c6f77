import type { Batch } from '../core/batch.js';
import { recordBatchFromRows } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';
import type { ReliableSink } from './reliable-sink.js';

/**
 * Turns dead letters into rows of the topology's dead-letter sink. A batch's dead letters are
 * written, durably, before the batch moves on, so no checkpoint can pass a record that was neither
 * delivered nor dead-lettered.
 */
export class DeadLetterWriter {
  constructor(
    private readonly topology: string,
    private readonly sink: ReliableSink,
  ) {}

  async write(batch: Batch, deadLetters: DeadLetter[]): Promise<void> {
    const at = new Date().toISOString();
    const rows = deadLetters.map((d) => ({
      topology: this.topology,
      node: d.node,
      stream: batch.meta.stream,
      partition: batch.meta.partition,
      reason: d.reason,
      origin: d.origin ? JSON.stringify(d.origin) : null,
      record: typeof d.record === 'string' ? d.record : JSON.stringify(d.record, jsonSafe),
      at,
    }));
    await this.sink.write({ data: recordBatchFromRows(rows), meta: { ...batch.meta, kind: 'records', deadLetters: undefined } });
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
