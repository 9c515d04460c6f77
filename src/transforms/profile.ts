import { Type, type Static } from '@sinclair/typebox';
import { Observable } from 'rxjs';
import type { Batch } from '../core/batch.js';
import { registry } from '../core/registry.js';
import { Profiler } from './profile/profiler.js';

export const ProfileConfig = Type.Object(
  {
    distinct_limit: Type.Optional(
      Type.Integer({ minimum: 1, default: 10_000, description: 'Exact distinct counts up to this many values, then HyperLogLog.' }),
    ),
    top_values: Type.Optional(Type.Integer({ minimum: 0, default: 5 })),
    report_every: Type.Optional(
      Type.Integer({ minimum: 1, default: 100, description: 'On an unbounded input, log the running profile every this many batches.' }),
    ),
  },
  { additionalProperties: false },
);
export type ProfileConfig = Static<typeof ProfileConfig>;

/**
 * `profile`: passes batches through untouched while profiling them (`profileTable` computes the
 * same report without the runtime). The report is logged on completion; an unbounded input, which
 * never completes, logs the running report every `report_every` batches instead.
 *
 * @example { type: 'profile', config: { top_values: 3 } }
 */
export const profileTransform = registry.transform({
  type: 'profile',
  description: 'Profiles the data passing through (types, nulls, distinct counts, statistics, top values).',
  configSchema: ProfileConfig,
  create(config, ctx) {
    return (source) =>
      new Observable<Batch>((subscriber) => {
        const profiler = new Profiler({ distinctLimit: config.distinct_limit, topValues: config.top_values });
        let batches = 0;
        return source.subscribe({
          next(batch) {
            try {
              profiler.add(batch.data);
            } catch (error) {
              subscriber.error(error);
              return;
            }
            if (ctx.unbounded && ++batches % (config.report_every ?? 100) === 0)
              ctx.logger.info({ profile: profiler.report() }, 'running profile');
            subscriber.next(batch);
          },
          error: (error: unknown) => subscriber.error(error),
          complete() {
            ctx.logger.info({ profile: profiler.report() }, 'profile');
            subscriber.complete();
          },
        });
      });
  },
});
