import type { Position } from '../core/batch.js';
import type { CheckpointStore } from '../core/ports.js';

/**
 * A checkpoint store whose positions outlive a completed run. The runtime clears a bounded
 * topology's checkpoints when it completes (the next run starts over); an incremental sync must
 * instead start the next run at the watermark the last one reached. Positions go only when the
 * rule is deleted.
 */
export class RetainedCheckpoints implements CheckpointStore {
  constructor(private readonly store: CheckpointStore) {}

  get(topology: string, partition: string): Promise<Position | undefined> {
    return this.store.get(topology, partition);
  }

  put(topology: string, partition: string, position: Position): Promise<void> {
    return this.store.put(topology, partition, position);
  }

  async delete(): Promise<void> {}

  list(topology: string): Promise<Record<string, Position>> {
    return this.store.list(topology);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
