import type { RunSummary } from '../runtime/run-metrics.js';

const number = new Intl.NumberFormat('en-US');

/** The end-of-run table: one line per node, then the totals that must reconcile. */
export function formatSummary(summary: RunSummary): string {
  const header = ['node', 'kind', 'type', 'rows in', 'rows out', 'filtered', 'dead-lettered', 'batches'];
  const rows = summary.nodes.map((n) => [
    n.node,
    n.kind,
    n.type,
    number.format(n.rowsIn),
    number.format(n.rowsOut),
    n.kind === 'transform' ? number.format(n.filtered) : '',
    number.format(n.deadLettered),
    number.format(n.batches),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const seconds = (summary.durationMs / 1000).toFixed(2);
  const read = summary.nodes.filter((n) => n.kind === 'source').reduce((a, n) => a + n.rowsIn, 0);
  const rate = summary.durationMs > 0 ? Math.round((read / summary.durationMs) * 1000) : read;
  return [
    '',
    `topology '${summary.topology}' ${summary.status} in ${seconds}s${summary.resumed ? ' (resumed from checkpoint)' : ''}` +
      ` — ${number.format(read)} records read, ${number.format(rate)} records/s, ${number.format(summary.deadLettered)} dead-lettered`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(summary.error ? ['', `error: ${summary.error}`] : []),
    '',
  ].join('\n');
}
