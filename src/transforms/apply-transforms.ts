import { Table, type RecordBatch } from 'apache-arrow';
import { firstValueFrom, from, map, toArray } from 'rxjs';
import type { Batch } from '../core/batch.js';
import { parseTransformConfig } from '../core/definition-config.js';
import type { DeadLetter } from '../core/dead-letter.js';
import { SluiceError } from '../core/errors.js';
import { logger as rootLogger, type Logger } from '../core/logger.js';
import type { Transform } from '../core/ports.js';
import { registry } from '../core/registry.js';
import './index.js';
import { Profiler, type ProfileReport } from './profile/profiler.js';
import type { QualityReport } from './validation/rules.js';
import { Validator } from './validation/validator.js';
import { ValidateConfig } from './validate.js';

/** One entry of the seed's `transformations` list. */
export interface TransformationSpec {
  type: string;
  config?: unknown;
  /** Lower runs first; entries without a priority run after, in list order. */
  priority?: number;
  rule_id?: string;
  name?: string;
  /** False skips the entry. */
  enabled?: boolean;
}

/** Metrics of one applied transformation. */
export interface TransformStats {
  rule_id?: string;
  name?: string;
  type: string;
  rows_in: number;
  rows_out: number;
  dead_letters: number;
  duration_ms: number;
  /** For `validate`: the quality report. */
  quality?: QualityReport;
  /** For `profile`: the profile of the data at that point. */
  profile?: ProfileReport;
}

export interface ApplyResult {
  batches: RecordBatch[];
  stats: TransformStats[];
  deadLetters: DeadLetter[];
}

/** The order transformations run in: by ascending priority, stable, unprioritized last. */
export function orderByPriority(transformations: TransformationSpec[]): TransformationSpec[] {
  return transformations
    .map((spec, index) => ({ spec, index }))
    .filter(({ spec }) => spec.enabled !== false)
    .sort((a, b) => (a.spec.priority ?? Infinity) - (b.spec.priority ?? Infinity) || a.index - b.index)
    .map(({ spec }) => spec);
}

/**
 * Applies a list of transformations to a bounded table, without the runtime (the control plane's
 * `POST /transform/apply`): configs are validated as in a topology, entries run in `priority`
 * order, and each reports rows in and out, dead letters and time. Validate and profile steps
 * also return their reports.
 *
 * @example
 * const { batches, stats } = await applyTransforms(table, [{ type: 'clean', priority: 1, config: { remove_duplicates: true } }]);
 * @throws SluiceError `SLUICE_UNKNOWN_TYPE` or `SLUICE_CONFIG_INVALID` before anything runs.
 */
export async function applyTransforms(
  input: Table | RecordBatch[],
  transformations: TransformationSpec[],
  options: { logger?: Logger } = {},
): Promise<ApplyResult> {
  const logger = options.logger ?? rootLogger;
  const ordered = orderByPriority(transformations);
  const steps = ordered.map((spec, i) => {
    const definition = registry.getTransform(spec.type);
    const label = spec.rule_id ?? spec.name ?? `${spec.type}_${i}`;
    if (!definition) {
      throw new SluiceError(
        'SLUICE_UNKNOWN_TYPE',
        `transformation '${label}': no transform of type '${spec.type}' (types: ${registry.transformTypes().join(', ')})`,
      );
    }
    const config = parseTransformConfig(definition, spec.config, { unbounded: false }, `transformations.${label}.config`);
    const ctx = { node: label, logger: logger.child({ node: label }), unbounded: false };
    let report: (() => Pick<TransformStats, 'quality' | 'profile'>) | undefined;
    let operator: Transform;
    if (spec.type === 'validate') {
      const validator = new Validator((config as ValidateConfig).validation_rules, label);
      operator = map((b) => validator.apply(b));
      report = () => ({ quality: validator.report() });
    } else if (spec.type === 'profile') {
      const profiler = new Profiler();
      operator = map((b) => {
        profiler.add(b.data);
        return b;
      });
      report = () => ({ profile: profiler.report() });
    } else {
      operator = definition.create(config as never, ctx);
    }
    return { spec, operator, report };
  });

  let batches: Batch[] = (input instanceof Table ? input.batches : input).map((data, seq) => ({
    data,
    meta: { stream: 'apply', partition: '0', position: seq, kind: 'records', seq },
  }));
  const stats: TransformStats[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const { spec, operator, report } of steps) {
    const started = performance.now();
    const rowsIn = batches.reduce((n, b) => n + b.data.numRows, 0);
    const out = await firstValueFrom(from(batches).pipe(operator, toArray()));
    const letters = out.flatMap((b) => b.meta.deadLetters ?? []);
    deadLetters.push(...letters);
    // Dead letters are settled here, as the runtime does, so the next step does not see them again.
    batches = out
      .filter((b) => b.data.numRows > 0 || b === out.at(-1))
      .map((b) => ({ data: b.data, meta: { ...b.meta, deadLetters: undefined, retainedFrom: undefined } }));
    stats.push({
      rule_id: spec.rule_id,
      name: spec.name,
      type: spec.type,
      rows_in: rowsIn,
      rows_out: batches.reduce((n, b) => n + b.data.numRows, 0),
      dead_letters: letters.length,
      duration_ms: performance.now() - started,
      ...report?.(),
    });
  }
  return { batches: batches.map((b) => b.data).filter((d) => d.numRows > 0), stats, deadLetters };
}
