import { parseArgs } from 'node:util';
import { logger } from '../../core/logger.js';
import { runTopology } from '../../runtime/run-topology.js';
import { createCheckpointStore } from '../../state/create-checkpoint-store.js';
import { loadTopology } from '../../topology/load-topology.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeErr, writeOut } from '../output.js';
import { ProgressDisplay } from '../progress-display.js';
import { formatSummary } from '../summary-table.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'run a topology (bounded runs end by themselves; Ctrl-C stops gracefully)',
  usage: `Usage: sluice run <topology> [options]

Runs a topology (.ts, .js, .yaml, .yml or .json). A bounded run shows live progress on stderr
and ends with a summary table; an unbounded one runs until SIGINT/SIGTERM, then stops reading,
drains what is in flight, stores its checkpoints and exits 0. An interrupted run resumes from its
checkpoints the next time it is run.

Options:
  --reset       forget stored checkpoints and start from the beginning
  --json        print the summary as JSON instead of a table
  --quiet       no progress display
  -h, --help    this help`,
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { reset: { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } },
    });
    if (positionals.length !== 1) {
      writeErr(`${this.usage}\n`);
      return EXIT.usage;
    }
    const topology = await loadTopology(positionals[0]);
    const checkpoints = createCheckpointStore(topology.checkpoint);
    if (values.reset) {
      for (const key of Object.keys(await checkpoints.list(topology.name))) await checkpoints.delete(topology.name, key);
    }

    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) {
        writeErr(`\nsluice: second ${signal}, exiting without draining\n`);
        process.exit(130);
      }
      logger.info({ signal }, 'stopping: draining in-flight batches');
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const display = new ProgressDisplay(!values.quiet && !values.json && process.stderr.isTTY === true);
    try {
      const summary = await runTopology(topology, { signal: stop.signal, checkpoints, onStart: (metrics) => display.start(metrics) });
      display.stop();
      writeOut(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      return summary.status === 'failed' ? EXIT.failed : EXIT.ok;
    } finally {
      display.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await checkpoints.close();
    }
  },
};
