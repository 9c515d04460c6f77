import type { NodeSpec } from '../../topology/schema.js';
import { orderByPriority } from '../../transforms/apply-transforms.js';
import type { TransformConfig } from '../step-configs.js';
import { requestTransformations } from './connector-configs.js';
import { runStepTopology } from './run-step-topology.js';
import type { StepRunner } from './step-context.js';

/**
 * Runs the input through the chain of registered transforms, in priority order (disabled ones
 * skipped). Lookups name connected datasources, resolved when the step runs.
 */
export const runTransform: StepRunner = async (ctx) => {
  const config = ctx.step.config as TransformConfig;
  const transformations = await requestTransformations(config.transformations, 'config.transformations', (name) =>
    ctx.resolveDatasource(name),
  );
  const nodes: Record<string, NodeSpec> = { input: { type: 'step_output', config: { path: ctx.outputOf(ctx.step.input!) } } };
  let previous = 'input';
  orderByPriority(transformations).forEach((t, i) => {
    const name = `t${i}_${t.type}`.replace(/[^A-Za-z0-9_-]/g, '_');
    nodes[name] = { type: t.type, inputs: [previous], config: (t.config ?? {}) as Record<string, unknown> };
    previous = name;
  });
  nodes.output = { type: 'step_output', inputs: [previous], config: { path: ctx.outputDir } };
  const rows = await runStepTopology(ctx, nodes, 'output');
  return { rows, output: ctx.outputDir };
};
