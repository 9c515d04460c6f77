import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lastValueFrom, take, toArray } from 'rxjs';
import type { Position } from '../../../src/core/batch.js';
import { IncrementalSource } from '../../../src/connectors/postgresql/incremental.js';
import { config, createDatabase, readContext, sql } from './pg-helpers.js';

describe('postgresql incremental source', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  beforeAll(async () => {
    db = await createDatabase('sluice_incr');
    // 2,500 rows over only 3 distinct timestamps, so every batch boundary falls inside a tie.
    await sql(
      db.url,
      `create table events (id int primary key, at timestamptz, v text);
      insert into events select g, timestamptz '2024-01-01 00:00:00.000001+00' + (g % 3) * interval '1 microsecond', 'v' || g from generate_series(1, 2500) g;
      insert into events values (0, null, 'no timestamp')`,
    );
  });
  afterAll(async () => db?.drop());

  const ids = (batches: { data: { getChild(name: string): { toArray(): Iterable<number> } | null } }[]) =>
    batches.flatMap((b) => [...b.data.getChild('id')!.toArray()]);

  it('reads rows with equal timestamps neither lost nor repeated, across batches and a restart', async () => {
    const cfg = config({ url: db.url, mode: 'incremental', table: 'events', cursor_column: 'at', batch_size: 300 });
    const first = await lastValueFrom(new IncrementalSource(cfg).read('events', undefined, readContext()).pipe(take(4), toArray()));
    const checkpoint = first.at(-1)!.meta.position as Position;
    // Restart from the checkpoint, as after a crash.
    const rest = await lastValueFrom(new IncrementalSource(cfg).read('events', checkpoint as never, readContext()).pipe(toArray()));
    const all = [...ids(first), ...ids(rest)];
    expect(all).toHaveLength(2500);
    expect(new Set(all).size).toBe(2500);
    expect(Math.min(...all)).toBe(1);
    // A later run picks up only new rows, including one tied with the watermark's timestamp.
    await sql(db.url, "insert into events values (2501, timestamptz '2024-01-01 00:00:00.000003+00', 'tie'), (2502, now(), 'new')");
    const next = await lastValueFrom(
      new IncrementalSource(cfg).read('events', rest.at(-1)!.meta.position as never, readContext()).pipe(toArray()),
    );
    expect(ids(next)).toEqual([2501, 2502]);
  });

  it('polls an idle table for ever without piling up abort listeners on the read signal', async () => {
    // Abort listeners added per signal: each idle poll waits on the read's signal.
    const added = new Map<EventTarget, number>();
    const addEventListener = EventTarget.prototype.addEventListener;
    const spy = vi.spyOn(EventTarget.prototype, 'addEventListener').mockImplementation(function (
      this: EventTarget,
      ...args: Parameters<EventTarget['addEventListener']>
    ) {
      if (args[0] === 'abort') added.set(this, (added.get(this) ?? 0) + 1);
      addEventListener.apply(this, args);
    });
    const controller = new AbortController();
    const cfg = config({ url: db.url, mode: 'incremental', table: 'events', cursor_column: 'at', batch_size: 5000, poll_interval_ms: 10 });
    const subscription = new IncrementalSource(cfg).read('events', undefined, readContext(controller.signal)).subscribe();
    try {
      await vi.waitFor(() => expect(Math.max(0, ...added.values())).toBeGreaterThanOrEqual(50), { timeout: 30_000, interval: 20 });
      const held = [...added.keys()].map((signal) => getEventListeners(signal, 'abort').length);
      expect(Math.max(...held)).toBeLessThanOrEqual(3);
    } finally {
      spy.mockRestore();
      controller.abort();
      subscription.unsubscribe();
    }
  });
});
