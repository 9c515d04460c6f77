import type { Position } from '../core/batch.js';
import type { Credits } from '../core/flow-control.js';

/**
 * Tracks, for one source partition, how far every sink route has durably acknowledged, and
 * commits the position when all of them are past it. Routes are order-preserving, so an
 * acknowledgement of seq n from a route covers every earlier seq on it.
 *
 * Two frontiers: progress (every route has processed up to here — releases in-flight credits)
 * and durability (progress, held back by rows transforms still keep in state — checkpointed).
 */
export class AckTracker {
  private nextSeq = 0;
  private readonly positions = new Map<number, Position | undefined>();
  private readonly acked: number[];
  private readonly retainedFrom: Array<number | undefined>;
  private released = -1;
  private committed = -1;
  private commits: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    routes: number,
    private readonly credits: Credits,
    private readonly commit: (position: Position) => Promise<void>,
  ) {
    this.acked = new Array(routes).fill(-1);
    this.retainedFrom = new Array(routes).fill(undefined);
  }

  /** Gives a batch leaving the source its seq and remembers where it ends. */
  register(position: Position | undefined): number {
    const seq = this.nextSeq++;
    this.positions.set(seq, position);
    return seq;
  }

  /** Throws the first failed checkpoint write, so the run fails instead of going on uncommitted. */
  ack(route: number, seq: number | undefined, retainedFrom: number | undefined): void {
    if (this.failure !== undefined) throw this.failure;
    if (seq !== undefined && seq > this.acked[route]) this.acked[route] = seq;
    this.retainedFrom[route] = retainedFrom;

    const progress = Math.min(...this.acked);
    if (progress > this.released) {
      this.credits.release(progress - this.released);
      this.released = progress;
    }
    const durable = Math.min(...this.acked.map((a, i) => (this.retainedFrom[i] === undefined ? a : Math.min(a, this.retainedFrom[i]! - 1))));
    this.commitUpTo(durable);
  }

  /** All routes completed: everything registered has been processed. */
  async complete(): Promise<void> {
    this.commitUpTo(this.nextSeq - 1);
    await this.commits;
  }

  private commitUpTo(seq: number): void {
    if (seq <= this.committed) return;
    let position: Position | undefined;
    for (let s = this.committed + 1; s <= seq; s++) {
      const p = this.positions.get(s);
      if (p !== undefined) position = p;
      this.positions.delete(s);
    }
    this.committed = seq;
    if (position === undefined) return;
    const target = position;
    // Chained so positions are stored in order, each only after the previous one.
    this.commits = this.commits.then(() => this.commit(target));
    this.commits.catch((error: unknown) => {
      this.failure ??= error;
    });
  }
}
