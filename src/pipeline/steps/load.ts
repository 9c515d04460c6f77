import type { LoadConfig } from '../step-configs.js';
import { loadSinkConfig } from './connector-configs.js';
import { runStepTopology } from './run-step-topology.js';
import type { StepRunner } from './step-context.js';

/**
 * Writes the input to a connected datasource. With mode `replace` the target is swapped only
 * after the last row: the sink stages its writes (a staging table, a staging file or directory)
 * and publishes them in `finish()`, which the runtime calls only after every batch succeeded.
 */
export const runLoad: StepRunner = async (ctx) => {
  const config = ctx.step.config as LoadConfig;
  const ds = await ctx.resolveDatasource(config.target);
  const rows = await runStepTopology(
    ctx,
    {
      input: { type: 'step_output', config: { path: ctx.outputOf(ctx.step.input!) } },
      target: { type: ds.type, inputs: ['input'], config: await loadSinkConfig(ds, config) },
    },
    'target',
  );
  return { rows, result: { target: config.target, table_name: config.table_name, mode: config.mode, rows_written: rows } };
};
