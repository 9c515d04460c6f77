import { Subject, type Observable } from 'rxjs';
import type { Position } from '../core/batch.js';
import type { Credits } from '../core/flow-control.js';

/**
 * Tracks, for one source partition, how far every sink route has durably acknowledged, and
 * commits the position when all of them are past it. Routes are order-preserving, so an
 * acknowledgement of seq n from a route covers every earlier seq on it.
 *
 * Two frontiers: progress (every route has processed up to here) and durability (progress, held
 * back by rows transforms still keep in state — this is what gets checkpointed). A batch's
 * in-flight credit is released only once the checkpoint covering it is stored, so what a crash
 * can replay is bounded by the in-flight limit. Checkpoint writes are coalesced: while one is being
 * stored, later acknowledgements only move the target of the next.
 *
 * A failed commit (after the caller's retry policy) is final: `failed$` errors with it at once,
 * since with every credit waiting on that checkpoint no further acknowledgement may come to report it.
 */
export class AckTracker {
  private nextSeq = 0;
  private readonly positions = new Map<number, Position | undefined>();
  private readonly acked: number[];
  private readonly retainedFrom: Array<number | undefined>;
  /** Highest seq whose position is stored (or needs none), and highest seq whose credit is back. */
  private stored = -1;
  private released = -1;
  /** What the next pump round should reach. */
  private targetDurable = -1;
  private targetProgress = -1;
  private pumping: Promise<void> | undefined;
  private failure: unknown;
  private readonly failures = new Subject<never>();
  /** Never emits; errors with the first failed commit. */
  readonly failed$: Observable<never> = this.failures.asObservable();

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
    const durable = Math.min(
      ...this.acked.map((a, i) => (this.retainedFrom[i] === undefined ? a : Math.min(a, this.retainedFrom[i]! - 1))),
    );
    this.advance(durable, progress);
  }

  /** The input ended and every route completed: everything registered is processed; stores the last position. */
  async complete(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.advance(this.nextSeq - 1, this.nextSeq - 1);
    await this.settled();
  }

  /**
   * The run stopped and every route drained: stores what is durable and no more. Rows transforms
   * still hold were never emitted, so the checkpoint stays at their retention mark.
   */
  async stop(): Promise<void> {
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.pumping) await this.pumping;
    if (this.failure !== undefined) throw this.failure;
  }

  private advance(durable: number, progress: number): void {
    this.targetDurable = Math.max(this.targetDurable, durable);
    this.targetProgress = Math.max(this.targetProgress, progress);
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
      // A target raised after the loop's last check, before this ran, would otherwise wait for the next ack.
      if (this.failure === undefined && (this.targetDurable > this.stored || this.targetProgress > this.released))
        this.advance(this.targetDurable, this.targetProgress);
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.targetDurable > this.stored || this.targetProgress > this.released) {
        const durable = this.targetDurable;
        const progress = this.targetProgress;
        const position = this.takePositions(durable);
        if (position !== undefined) await this.commit(position);
        this.stored = Math.max(this.stored, durable);
        if (progress > this.released) {
          this.credits.release(progress - this.released);
          this.released = progress;
        }
      }
    } catch (error) {
      if (this.failure !== undefined) return;
      this.failure = error;
      this.failures.error(error);
    }
  }

  /** The latest position at or before `seq` not yet stored, forgetting the ones it covers. */
  private takePositions(seq: number): Position | undefined {
    let position: Position | undefined;
    for (let s = this.stored + 1; s <= seq; s++) {
      const p = this.positions.get(s);
      if (p !== undefined) position = p;
      this.positions.delete(s);
    }
    return position;
  }
}
