import { Value } from '@sinclair/typebox/value';
import { parseConfig, schemaIssues } from '../core/config.js';
import { SluiceError, type ErrorIssue } from '../core/errors.js';
import {
  PipelineDocumentSchema,
  PipelineSettingsSchema,
  type PipelineDocument,
  type PipelineSettings,
  type StepSpec,
} from './pipeline-schema.js';
import { STEP_CONFIG_SCHEMAS } from './step-configs.js';

export interface PlannedStep {
  spec: StepSpec;
  /** The step's config, validated against the schema of its type, defaults filled. */
  config: Record<string, unknown>;
  /** `depends_on` plus the `input_step`, which is a dependency too. */
  deps: string[];
  /** The step whose output is this step's input, when it reads one. */
  input?: string;
}

export interface PipelinePlan {
  document: PipelineDocument;
  settings: PipelineSettings;
  steps: Map<string, PlannedStep>;
  /** Step ids, every step after its dependencies. */
  order: string[];
}

const READS_INPUT = new Set(['transform', 'load', 'validate', 'custom']);

/**
 * Validates a pipeline document (shape, each step's config, references, cycles) and returns
 * the plan the executor runs. Every problem is reported at once with its path, under `prefix`.
 */
export function planPipeline(input: unknown, prefix = 'body'): PipelinePlan {
  const document = Value.Default(PipelineDocumentSchema, structuredClone(input ?? {})) as PipelineDocument;
  const issues = schemaIssues(PipelineDocumentSchema, document, prefix);
  if (issues.length > 0) throw invalid(issues);
  const settings = Value.Default(PipelineSettingsSchema, structuredClone(document.settings ?? {})) as PipelineSettings;
  const steps = new Map<string, PlannedStep>();

  document.steps.forEach((spec, i) => {
    const at = `${prefix}.steps[${i}]`;
    if (steps.has(spec.id)) issues.push({ path: `${at}.id`, message: `duplicate step id '${spec.id}'` });
    let config: Record<string, unknown> = spec.config ?? {};
    try {
      config = parseConfig(STEP_CONFIG_SCHEMAS[spec.type], spec.config ?? {}, `${at}.config`) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof SluiceError) issues.push(...error.issues);
      else throw error;
    }
    const deps = [...new Set(spec.depends_on ?? [])];
    const declaredInput = typeof config.input_step === 'string' ? config.input_step : undefined;
    if (declaredInput && !deps.includes(declaredInput)) deps.push(declaredInput);
    const input = READS_INPUT.has(spec.type) ? (declaredInput ?? (deps.length === 1 ? deps[0] : undefined)) : undefined;
    if (READS_INPUT.has(spec.type) && spec.type !== 'custom' && !input) {
      issues.push({
        path: `${at}.config.input_step`,
        message: `a ${spec.type} step needs an input: set input_step (it has ${deps.length} dependencies)`,
      });
    }
    steps.set(spec.id, { spec, config, deps, input });
  });

  document.steps.forEach((spec, i) => {
    steps.get(spec.id)?.deps.forEach((dep) => {
      const j = (spec.depends_on ?? []).indexOf(dep);
      const path = j >= 0 ? `${prefix}.steps[${i}].depends_on[${j}]` : `${prefix}.steps[${i}].config.input_step`;
      if (!steps.has(dep)) issues.push({ path, message: `no step '${dep}'` });
      else if (dep === spec.id) issues.push({ path, message: 'a step cannot depend on itself' });
    });
  });
  const order = issues.length === 0 ? topologicalOrder(steps, document, prefix, issues) : [];
  if (issues.length > 0) throw invalid(issues);
  return { document, settings, steps, order };
}

function topologicalOrder(steps: Map<string, PlannedStep>, document: PipelineDocument, prefix: string, issues: ErrorIssue[]): string[] {
  const remaining = new Map([...steps].map(([id, s]) => [id, new Set(s.deps)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([id]) => id);
    if (ready.length === 0) {
      const stuck = [...remaining.keys()];
      const index = document.steps.findIndex((s) => s.id === stuck[0]);
      issues.push({ path: `${prefix}.steps[${index}].depends_on`, message: `dependency cycle through steps ${stuck.join(', ')}` });
      return order;
    }
    for (const id of ready) {
      order.push(id);
      remaining.delete(id);
      for (const deps of remaining.values()) deps.delete(id);
    }
  }
  return order;
}

function invalid(issues: ErrorIssue[]): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', `pipeline is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues,
  });
}
