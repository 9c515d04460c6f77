import { isSluiceError } from '../core/errors.js';
import type { PipelinePlan } from '../pipeline/plan.js';
import type { ExtractConfig, LoadConfig, TransformConfig } from '../pipeline/step-configs.js';
import { extractSourceConfig, loadSinkConfig, requestTransformations } from '../pipeline/steps/connector-configs.js';
import type { ResolvedDatasource } from '../pipeline/steps/step-context.js';
import type { ControlPlane } from './control-plane.js';

/** A connected datasource, or undefined when none has that name. */
export async function findDatasource(cp: ControlPlane, name: string): Promise<ResolvedDatasource | undefined> {
  return cp.state.datasources
    .resolve(name)
    .catch((error: unknown) => (isSluiceError(error) && error.code === 'SLUICE_NOT_FOUND' ? undefined : Promise.reject(error)));
}

/**
 * Refuses, when a pipeline is stored or started, what its run would refuse: request fields its
 * datasources do not let a request set, paths outside their directories, inline connector
 * configs, unknown transform types. Steps naming a datasource not connected yet are checked when
 * they run.
 */
export async function screenPipeline(cp: ControlPlane, plan: PipelinePlan, prefix = 'body'): Promise<void> {
  for (const [i, spec] of plan.document.steps.entries()) {
    const step = plan.steps.get(spec.id)!;
    const at = `${prefix}.steps[${i}].config`;
    if (spec.type === 'extract') {
      const config = step.config as ExtractConfig;
      const ds = await findDatasource(cp, config.source);
      if (ds) await extractSourceConfig(ds, config, at);
    } else if (spec.type === 'load') {
      const config = step.config as LoadConfig;
      const ds = await findDatasource(cp, config.target);
      if (ds) await loadSinkConfig(ds, config, at);
    } else if (spec.type === 'transform') {
      await requestTransformations((step.config as TransformConfig).transformations, `${at}.transformations`, (name) =>
        findDatasource(cp, name),
      );
    }
  }
}
