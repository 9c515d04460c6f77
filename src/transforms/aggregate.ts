import { Type, type Static } from '@sinclair/typebox';
import type { RecordBatch } from 'apache-arrow';
import { Observable } from 'rxjs';
import { rowsOf, withData, type Batch } from '../core/batch.js';
import type { DeadLetter } from '../core/dead-letter.js';
import { SluiceError, type ErrorIssue } from '../core/errors.js';
import { lowerMark, Retention } from '../core/retention.js';
import type { TransformContext } from '../core/ports.js';
import { registry } from '../core/registry.js';
import { takeRows } from './arrow-ops.js';
import { Duration, durationMs } from './aggregate/duration.js';
import { FixedWindows } from './aggregate/fixed-windows.js';
import { SessionWindows } from './aggregate/session-windows.js';
import { aggregateOutput, emptyOutput } from './aggregate/aggregate-output.js';
import { batchOfColumns } from './aggregate/window-output.js';
import { AGG_FUNCS, GroupAggregates, type AggFunc, type AggSpec } from './columns/group-aggregates.js';
import { KeyIndex } from './columns/key-index.js';
import { readNumbers } from './columns/numbers.js';

const AggFuncSchema = Type.Union(AGG_FUNCS.map((f) => Type.Literal(f)));

export const WindowConfig = Type.Object(
  {
    type: Type.Union([Type.Literal('tumbling'), Type.Literal('hopping'), Type.Literal('session')]),
    time_column: Type.String({ minLength: 1, description: 'Event-time column: a timestamp, date or epoch milliseconds.' }),
    size: Type.Optional({ ...Duration, description: 'Window length (tumbling, hopping).' }),
    slide: Type.Optional({ ...Duration, description: 'Distance between window starts (hopping).' }),
    gap: Type.Optional({ ...Duration, description: 'Inactivity that ends a session (session).' }),
    watermark_delay: Type.Optional({
      ...Duration,
      description: 'The watermark trails the highest event time seen by this much (expected out-of-orderness). Default 0.',
    }),
    allowed_lateness: Type.Optional({
      ...Duration,
      description: 'How long after the watermark passes its end a window still accepts rows. Default 0.',
    }),
  },
  { additionalProperties: false },
);

export const AggregateConfig = Type.Object(
  {
    group_by: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Key columns; none gives one row.' })),
    aggregations: Type.Record(Type.String({ minLength: 1 }), Type.Union([AggFuncSchema, Type.Array(AggFuncSchema, { minItems: 1 })]), {
      description: 'Column to functions; outputs are named `<column>_<function>`, e.g. `cost_sum`.',
      examples: [{ cost: ['sum', 'mean', 'max'], utilization: ['mean', 'std'], resource_count: ['count'] }],
    }),
    window: Type.Optional(WindowConfig),
  },
  { additionalProperties: false },
);
export type AggregateConfig = Static<typeof AggregateConfig>;

/** The output columns a config asks for, in config order. */
export function aggregationSpecs(aggregations: Record<string, AggFunc | AggFunc[]>): AggSpec[] {
  return Object.entries(aggregations).flatMap(([column, funcs]) =>
    (Array.isArray(funcs) ? funcs : [funcs]).map((func) => ({ column, func, output: `${column}_${func}` })),
  );
}

/**
 * `aggregate`: group by + aggregations, vectorized over dense group ids.
 *
 * Without `window` it needs the whole input: on a bounded input it holds running state (never
 * rows), answers each batch with an empty batch whose `retainedFrom` keeps the checkpoint before
 * it, and emits one exact result batch on completion. On an unbounded input a window is
 * required: its config is refused without one.
 *
 * Empty answers have the output schema, so what follows can name output columns (a filter on
 * `cost_sum` is a HAVING); their `retainedFrom` is the lowest of what this aggregate and its
 * upstream hold (`Retention`).
 *
 * With `window` (tumbling, hopping or session on `time_column`) results are emitted as windows
 * close: the watermark is the highest event time seen minus `watermark_delay`; a window closes when
 * the watermark passes its end + `allowed_lateness`; rows arriving for closed windows, and rows
 * without an event time, go to the dead letters. Output columns: `window_start`, `window_end`, the
 * group columns, then the aggregates. Remaining windows are emitted when the input completes.
 *
 * @example
 * { type: 'aggregate', config: { group_by: ['region'], aggregations: { cost: ['sum', 'mean'] },
 *   window: { type: 'tumbling', time_column: 'ts', size: '1h', watermark_delay: '5m' } } }
 */
export const aggregateTransform = registry.transform({
  type: 'aggregate',
  description: 'Group-by aggregation, exact over bounded input, windowed (tumbling, hopping, session) over streams.',
  configSchema: AggregateConfig,
  reshapes: true,
  holdsRows: () => true,
  validate(config, input) {
    if (config.window) return windowIssues(config.window);
    return input.unbounded ? [{ path: 'window', message: 'an unbounded input needs a window (tumbling, hopping or session)' }] : [];
  },
  create(config, ctx) {
    const specs = aggregationSpecs(config.aggregations as Record<string, AggFunc | AggFunc[]>);
    const groupBy = config.group_by ?? [];
    return config.window ? windowedAggregate(config.window, groupBy, specs, ctx) : fullAggregate(groupBy, specs);
  },
});

type Window = Static<typeof WindowConfig>;

/** A window has the positive length its type needs (size, or a session's gap), and a hopping slide at most its size. */
function windowIssues(window: Window): ErrorIssue[] {
  const name = window.type === 'session' ? 'gap' : 'size';
  const value = window[name];
  if (value === undefined) return [{ path: `window.${name}`, message: `a ${window.type} window needs ${name}` }];
  const length = durationMs(value, `window.${name}`);
  if (length <= 0) return [{ path: `window.${name}`, message: `window ${name} must be positive` }];
  const slide = window.type === 'hopping' && window.slide !== undefined ? durationMs(window.slide, 'window.slide') : length;
  return slide <= 0 || slide > length ? [{ path: 'window.slide', message: 'hopping slide must be positive and at most the size' }] : [];
}

function fullAggregate(groupBy: string[], specs: AggSpec[]) {
  return (source: Observable<Batch>): Observable<Batch> =>
    new Observable<Batch>((subscriber) => {
      const keys = new KeyIndex(groupBy.length);
      const aggregates = new GroupAggregates(specs);
      const retention = new Retention();
      let heldFrom: number | undefined;
      let empty: RecordBatch | undefined;
      let last: Batch | undefined;
      return source.subscribe({
        next(batch) {
          try {
            const data = batch.data;
            const columns = groupBy.map((name) => requireColumn(data, name));
            const ids = keys.ids(columns, data.numRows);
            aggregates.add(data, ids, keys.size);
            empty ??= emptyOutput(data, groupBy, specs, false);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          heldFrom = lowerMark(heldFrom, retention.admit(batch));
          last = batch;
          subscriber.next(withData(batch, empty, { retainedFrom: retention.mark(heldFrom) }));
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          if (last) {
            const groups = keys.size;
            const output = aggregateOutput({ groupBy, keys: keys.keyVectors(), aggregates: aggregates.results(groups) }, groups);
            subscriber.next(withData(last, output, { retainedFrom: retention.mark(undefined), deadLetters: undefined }));
          }
          subscriber.complete();
        },
      });
    });
}

function windowedAggregate(window: Window, groupBy: string[], specs: AggSpec[], ctx: TransformContext) {
  const path = 'config.window';
  const need = (name: 'size' | 'gap'): number => durationMs(window[name]!, `${path}.${name}`);
  const delay = durationMs(window.watermark_delay ?? 0, `${path}.watermark_delay`);
  const lateness = durationMs(window.allowed_lateness ?? 0, `${path}.allowed_lateness`);

  return (source: Observable<Batch>): Observable<Batch> =>
    new Observable<Batch>((subscriber) => {
      let state: FixedWindows | SessionWindows;
      if (window.type === 'session') state = new SessionWindows(need('gap'), lateness, groupBy, specs);
      else {
        const size = need('size');
        const slide = window.type === 'hopping' ? durationMs(window.slide ?? size, `${path}.slide`) : size;
        state = new FixedWindows(size, slide, lateness, groupBy, specs);
      }
      const retention = new Retention();
      let maxTime = -Infinity;
      let empty: RecordBatch | undefined;
      let last: Batch | undefined;
      let seqs = 0;
      return source.subscribe({
        next(batch) {
          let out: Batch;
          try {
            const data = batch.data;
            const origin = retention.admit(batch) ?? seqs++;
            const times = readNumbers(requireColumn(data, window.time_column), `window time_column '${window.time_column}'`);
            for (const name of groupBy) requireColumn(data, name);
            const watermark = maxTime - delay;
            const onTime: number[] = [];
            const rejected: { row: number; reason: string }[] = [];
            let batchMax = -Infinity;
            for (let i = 0; i < data.numRows; i++) {
              if (!times.valid[i]) rejected.push({ row: i, reason: `no event time in '${window.time_column}'` });
              else if (state.isLate(times.values[i], watermark))
                rejected.push({ row: i, reason: `late event: its window closed at watermark ${new Date(watermark).toISOString()}` });
              else {
                onTime.push(i);
                if (times.values[i] > batchMax) batchMax = times.values[i];
              }
            }
            state.add(data, times.values, Int32Array.from(onTime), origin, watermark);
            maxTime = Math.max(maxTime, batchMax);
            const results = state.close(maxTime - delay);
            const deadLetters = [...(batch.meta.deadLetters ?? []), ...lateLetters(data, rejected, ctx.node)];
            const emitted = results.length === 0 ? (empty ??= emptyOutput(data, groupBy, specs, true)) : concatResults(results);
            out = withData(batch, emitted, {
              retainedFrom: retention.mark(state.retainedFrom()),
              deadLetters: deadLetters.length > 0 ? deadLetters : undefined,
            });
          } catch (error) {
            subscriber.error(error);
            return;
          }
          last = batch;
          subscriber.next(out);
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          const results = state.close(Infinity, true);
          if (last && results.length > 0)
            subscriber.next(withData(last, concatResults(results), { retainedFrom: retention.mark(undefined), deadLetters: undefined }));
          subscriber.complete();
        },
      });
    });
}

function lateLetters(data: RecordBatch, rejected: { row: number; reason: string }[], node: string): DeadLetter[] {
  if (rejected.length === 0) return [];
  const rows = rowsOf(
    takeRows(
      data,
      Int32Array.from(rejected, (r) => r.row),
    ),
  );
  return rejected.map((r, k) => ({ node, reason: r.reason, record: rows[k] }));
}

/** Several closed windows in one batch (they share the output schema). */
function concatResults(results: RecordBatch[]): RecordBatch {
  return results.reduce((a, b) => concatTwo(a, b));
}

function concatTwo(a: RecordBatch, b: RecordBatch): RecordBatch {
  const columns = a.schema.fields.map((field, i) => ({ name: field.name, vector: a.getChildAt(i)!.concat(b.getChildAt(i)!) }));
  return batchOfColumns(columns, a.numRows + b.numRows);
}

function requireColumn(data: RecordBatch, name: string) {
  const vector = data.getChild(name);
  if (!vector) {
    const available = data.schema.fields.map((f) => f.name).join(', ') || 'none';
    throw new SluiceError('SLUICE_TRANSFORM_FAILED', `aggregate: no column '${name}' (columns: ${available})`);
  }
  return vector;
}
