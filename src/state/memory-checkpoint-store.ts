import type { Position } from '../core/batch.js';
import type { CheckpointStore } from '../core/ports.js';

/**
 * Checkpoints kept in memory, for runs whose unit of retry is the whole run: a pipeline step (its
 * output is published atomically) or a sync run (its own state lives in Redis). Not durable.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly durable = false;
  private readonly positions = new Map<string, Record<string, Position>>();

  async get(topology: string, partition: string): Promise<Position | undefined> {
    return this.positions.get(topology)?.[partition];
  }

  async put(topology: string, partition: string, position: Position): Promise<void> {
    this.positions.set(topology, { ...this.positions.get(topology), [partition]: position });
  }

  async delete(topology: string, partition: string): Promise<void> {
    const stored = this.positions.get(topology);
    if (stored) delete stored[partition];
  }

  async list(topology: string): Promise<Record<string, Position>> {
    return { ...this.positions.get(topology) };
  }

  async close(): Promise<void> {}
}
