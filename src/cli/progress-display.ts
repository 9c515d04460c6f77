import cliProgress from 'cli-progress';
import type { RunMetrics } from '../runtime/run-metrics.js';

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/**
 * Live progress of a run on stderr: a bar when the sources know their size (files do), the
 * read rate, and per-node row counts. Disabled when stderr is not a terminal.
 */
export class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly enabled: boolean) {}

  start(metrics: RunMetrics): void {
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% | {records} records | {rate}/s | {nodes}',
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(1000, 0, this.payload(metrics));
    this.timer = setInterval(() => this.bar?.update(Math.round((metrics.fractionDone ?? 0) * 1000), this.payload(metrics)), 200);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.bar?.stop();
    this.bar = undefined;
  }

  private payload(metrics: RunMetrics) {
    const seconds = Math.max(0.001, (Date.now() - metrics.startedAt) / 1000);
    const nodes = [...metrics.nodes.values()]
      .map((n) => `${n.node} ${compact.format(n.kind === 'source' ? n.rowsIn : n.rowsOut)}`)
      .join(' · ');
    const dead = metrics.deadLettered;
    return {
      records: compact.format(metrics.recordsRead),
      rate: compact.format(metrics.recordsRead / seconds),
      nodes: dead > 0 ? `${nodes} · dead ${compact.format(dead)}` : nodes,
    };
  }
}
