import type { ExtractConfig } from '../step-configs.js';
import { extractSourceConfig } from './connector-configs.js';
import { runStepTopology } from './run-step-topology.js';
import type { StepRunner } from './step-context.js';

/** Reads a connected datasource into the step output. */
export const runExtract: StepRunner = async (ctx) => {
  const config = ctx.step.config as ExtractConfig;
  const ds = await ctx.resolveDatasource(config.source);
  const rows = await runStepTopology(
    ctx,
    {
      source: { type: ds.type, config: await extractSourceConfig(ds, config) },
      output: { type: 'step_output', inputs: ['source'], config: { path: ctx.outputDir } },
    },
    'output',
  );
  return { rows, output: ctx.outputDir };
};
