import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../../core/metrics.js';

/** Slots streaming in this process, each with how to read its lag (server WAL end − confirmed). */
export const activeSlots = new Map<string, () => bigint>();

/** Change rows emitted by CDC sources; `rate()` of it gives events/s. */
export const cdcEvents = new Counter({
  name: 'sluice_pg_cdc_events_total',
  help: 'Change rows (c/u/d/r) emitted by PostgreSQL CDC sources.',
  labelNames: ['slot'],
  registers: [metricsRegistry],
});

new Gauge({
  name: 'sluice_pg_cdc_slot_lag_bytes',
  help: 'WAL bytes between the server position last seen and the LSN confirmed to the slot.',
  labelNames: ['slot'],
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [slot, lag] of activeSlots) this.set({ slot }, Number(lag()));
  },
});
