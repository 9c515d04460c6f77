import type { Batch } from './batch.js';

/** The lower of two retention marks; undefined means "holds nothing". */
export function lowerMark(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * The retention bookkeeping of one stateful operator (see `BatchMeta.retainedFrom`). Marks combine
 * by minimum along the chain and are never overwritten: an operator that holds nothing itself still
 * passes on what its upstream holds, and rows it takes in count from the lowest seq they can come
 * from, which is earlier than their batch's own when an upstream operator was holding them.
 *
 * @example
 * const retention = new Retention();
 * // next(batch):
 * const origin = retention.admit(batch); // hold this batch's rows as coming from `origin`
 * subscriber.next(withData(batch, out, { retainedFrom: retention.mark(lowestHeldOrigin) }));
 */
export class Retention {
  private upstream: number | undefined;

  /**
   * Takes in an input batch. Returns the lowest seq its rows can come from: its own, or the mark
   * upstream had before it, since what upstream emits with it may be rows it was holding.
   */
  admit(batch: Batch): number | undefined {
    const origin = lowerMark(batch.meta.seq, this.upstream);
    this.upstream = batch.meta.retainedFrom;
    return origin;
  }

  /** The mark of an output batch, given the lowest origin this operator still holds after it. */
  mark(held: number | undefined): number | undefined {
    return lowerMark(held, this.upstream);
  }
}
