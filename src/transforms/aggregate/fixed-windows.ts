import type { RecordBatch } from 'apache-arrow';
import { takeRows } from '../arrow-ops.js';
import { GroupAggregates, type AggSpec } from '../columns/group-aggregates.js';
import { KeyIndex } from '../columns/key-index.js';
import { aggregateOutput } from './aggregate-output.js';

interface OpenWindow {
  keys: KeyIndex;
  aggregates: GroupAggregates;
  /** Lowest seq the rows in this window come from. */
  firstSeq: number;
}

/**
 * Tumbling (slide = size) and hopping windows on event time: one KeyIndex and accumulators per
 * open window start. A window [start, start + size) closes once the watermark reaches
 * end + allowed lateness; a row whose every window has closed is late.
 */
export class FixedWindows {
  private readonly open = new Map<number, OpenWindow>();

  constructor(
    private readonly size: number,
    private readonly slide: number,
    private readonly lateness: number,
    private readonly groupBy: string[],
    private readonly specs: AggSpec[],
  ) {}

  /** Whether a row at time t is too late for every window it belongs to. */
  isLate(t: number, watermark: number): boolean {
    const lastStart = Math.floor(t / this.slide) * this.slide;
    return lastStart + this.size + this.lateness <= watermark;
  }

  /** Adds the given (on-time, valid-time) rows of a batch, coming from seq `origin` on, to their open windows. */
  add(batch: RecordBatch, times: Float64Array, rows: Int32Array, origin: number, watermark: number): void {
    const buckets = new Map<number, number[]>();
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const t = times[row];
      // Hopping: every start k*slide with start <= t < start + size, skipping closed windows.
      for (let start = Math.floor(t / this.slide) * this.slide; start + this.size > t; start -= this.slide) {
        if (start + this.size + this.lateness <= watermark) break;
        let bucket = buckets.get(start);
        if (!bucket) buckets.set(start, (bucket = []));
        bucket.push(row);
      }
    }
    for (const [start, bucket] of buckets) {
      let window = this.open.get(start);
      if (!window) {
        window = { keys: new KeyIndex(this.groupBy.length), aggregates: new GroupAggregates(this.specs), firstSeq: origin };
        this.open.set(start, window);
      }
      window.firstSeq = Math.min(window.firstSeq, origin);
      const part = takeRows(batch, Int32Array.from(bucket));
      const keyColumns = this.groupBy.map((name) => part.getChild(name)!);
      const ids = window.keys.ids(keyColumns, part.numRows);
      window.aggregates.add(part, ids, window.keys.size);
    }
  }

  /** Emits and forgets the windows closed at this watermark (all of them when `all`), by start. */
  close(watermark: number, all = false): RecordBatch[] {
    const closing = [...this.open.keys()].filter((start) => all || start + this.size + this.lateness <= watermark).sort((a, b) => a - b);
    return closing.map((start) => {
      const window = this.open.get(start)!;
      this.open.delete(start);
      const groups = window.keys.size;
      const bounds = { start: new Array<number>(groups).fill(start), end: new Array<number>(groups).fill(start + this.size) };
      return aggregateOutput(
        { window: bounds, groupBy: this.groupBy, keys: window.keys.keyVectors(), aggregates: window.aggregates.results(groups) },
        groups,
      );
    });
  }

  /** Lowest seq still held in an open window, undefined when none is open. */
  retainedFrom(): number | undefined {
    let lowest: number | undefined;
    for (const window of this.open.values()) if (lowest === undefined || window.firstSeq < lowest) lowest = window.firstSeq;
    return lowest;
  }
}
