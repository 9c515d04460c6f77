import type { Schema } from 'apache-arrow';
import type { Position } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';
import { BatchBuilder } from './batch-builder.js';
import type { ReadChunk } from './types.js';

/**
 * Gathers converted rows and dead letters of a record-at-a-time reader into chunks of at most
 * `batchSize` entries (good rows plus dead letters), each ending at the position of its last record.
 */
export class RowChunker {
  private builder: BatchBuilder;
  private deadLetters: DeadLetter[] = [];
  private position: Position | undefined;

  constructor(
    schema: Schema,
    private readonly batchSize: number,
  ) {
    this.builder = new BatchBuilder(schema);
  }

  private get size(): number {
    return this.builder.length + this.deadLetters.length;
  }

  /** Adds a row (values in schema order) or a dead letter; returns a chunk once one is full. */
  add(entry: unknown[] | DeadLetter, position: Position): ReadChunk | undefined {
    if (Array.isArray(entry)) this.builder.append(entry);
    else this.deadLetters.push(entry);
    this.position = position;
    return this.size >= this.batchSize ? this.flush() : undefined;
  }

  /** The entries gathered since the last chunk, or undefined when there are none. */
  flush(): ReadChunk | undefined {
    if (this.size === 0 || this.position === undefined) return undefined;
    const chunk = { data: this.builder.flush(), deadLetters: this.deadLetters, position: this.position };
    this.deadLetters = [];
    return chunk;
  }
}
