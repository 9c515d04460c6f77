import type { RecordBatch } from 'apache-arrow';
import { takeRows } from '../arrow-ops.js';
import { GroupAggregates, type AggSpec } from '../columns/group-aggregates.js';
import { KeyIndex } from '../columns/key-index.js';
import { aggregateOutput } from './aggregate-output.js';

interface HeldBatch {
  data: RecordBatch;
  /** Lowest seq the rows of this batch come from. */
  origin: number;
  /** Events of this batch not yet emitted. */
  pending: number;
}

interface Event {
  t: number;
  batch: number;
  row: number;
}

/**
 * Session windows per key: events closer than `gap` form one session [first, last + gap). Events
 * are held (as references into their batches) until their session closes, i.e. the watermark
 * reaches its end + allowed lateness; then the closed sessions are aggregated in arrival order.
 */
export class SessionWindows {
  private readonly keys: KeyIndex;
  private readonly events: Event[][] = [];
  private readonly held = new Map<number, HeldBatch>();
  private nextBatch = 0;

  constructor(
    private readonly gap: number,
    private readonly lateness: number,
    private readonly groupBy: string[],
    private readonly specs: AggSpec[],
  ) {
    this.keys = new KeyIndex(groupBy.length);
  }

  /** An event older than watermark − lateness could belong to a session already emitted. */
  isLate(t: number, watermark: number): boolean {
    return t < watermark - this.lateness;
  }

  add(batch: RecordBatch, times: Float64Array, rows: Int32Array, origin: number): void {
    if (rows.length === 0) return;
    const id = this.nextBatch++;
    this.held.set(id, { data: batch, origin, pending: rows.length });
    const part = takeRows(batch, rows);
    const groups = this.keys.ids(
      this.groupBy.map((name) => part.getChild(name)!),
      part.numRows,
    );
    while (this.events.length < this.keys.size) this.events.push([]);
    for (let k = 0; k < rows.length; k++) this.events[groups[k]].push({ t: times[rows[k]], batch: id, row: rows[k] });
  }

  close(watermark: number, all = false): RecordBatch[] {
    const sessions: { key: number; start: number; end: number; events: Event[] }[] = [];
    for (let key = 0; key < this.events.length; key++) {
      const events = this.events[key];
      if (events.length === 0) continue;
      const sorted = events.slice().sort((a, b) => a.t - b.t);
      const kept: Event[] = [];
      let current: Event[] = [];
      const flush = (): void => {
        if (current.length === 0) return;
        const start = current[0].t;
        const end = current[current.length - 1].t + this.gap;
        if (all || end + this.lateness <= watermark) sessions.push({ key, start, end, events: current });
        else kept.push(...current);
        current = [];
      };
      for (const event of sorted) {
        if (current.length > 0 && event.t - current[current.length - 1].t >= this.gap) flush();
        current.push(event);
      }
      flush();
      this.events[key] = kept;
    }
    if (sessions.length === 0) return [];
    sessions.sort((a, b) => a.start - b.start || a.key - b.key);

    // Aggregate each closed session's rows batch by batch, rows in arrival order.
    const aggregates = new GroupAggregates(this.specs);
    const byBatch = new Map<number, { row: number; session: number }[]>();
    sessions.forEach((session, s) => {
      for (const event of session.events) {
        let list = byBatch.get(event.batch);
        if (!list) byBatch.set(event.batch, (list = []));
        list.push({ row: event.row, session: s });
      }
    });
    for (const batchId of [...byBatch.keys()].sort((a, b) => a - b)) {
      const list = byBatch.get(batchId)!.sort((a, b) => a.row - b.row);
      const held = this.held.get(batchId)!;
      const part = takeRows(
        held.data,
        Int32Array.from(list, (e) => e.row),
      );
      aggregates.add(
        part,
        Int32Array.from(list, (e) => e.session),
        sessions.length,
      );
      held.pending -= list.length;
      if (held.pending === 0) this.held.delete(batchId);
    }
    const keyVectors = this.keys.keyVectorsOf(sessions.map((s) => s.key));
    const window = { start: sessions.map((s) => s.start), end: sessions.map((s) => s.end) };
    return [
      aggregateOutput(
        { window, groupBy: this.groupBy, keys: keyVectors, aggregates: aggregates.results(sessions.length) },
        sessions.length,
      ),
    ];
  }

  retainedFrom(): number | undefined {
    let lowest: number | undefined;
    for (const held of this.held.values()) if (lowest === undefined || held.origin < lowest) lowest = held.origin;
    return lowest;
  }
}
