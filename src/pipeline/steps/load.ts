import { rename, rm, stat } from 'node:fs/promises';
import { formatFromPath } from '../../formats/index.js';
import type { LoadConfig } from '../step-configs.js';
import { loadSinkConfig } from './connector-configs.js';
import { runStepTopology } from './run-step-topology.js';
import type { StepContext, StepRunner } from './step-context.js';

/**
 * A file target written whole (mode replace) goes to a temporary file renamed over the target
 * once every row is written: readers see the old file or the new one, never a part.
 */
async function stagedFile(ctx: StepContext, sink: Record<string, unknown>): Promise<{ final: string; temp: string; config: Record<string, unknown> } | undefined> {
  const path = String(sink.path);
  const format = (sink.format as string | undefined) ?? formatFromPath(path);
  if (sink.mode !== 'overwrite' || !format || format === 'parquet') return undefined;
  if ((await stat(path).catch(() => undefined))?.isDirectory()) return undefined;
  const temp = `${path}.${ctx.runId}.tmp`;
  return { final: path, temp, config: { ...sink, path: temp, format } };
}

/**
 * Writes the input to a connected datasource. With mode `replace` the target is swapped only
 * after the last row: the postgresql sink stages and swaps in `finish()`, which the runtime calls
 * only after every batch succeeded; a file is written aside and renamed into place.
 */
export const runLoad: StepRunner = async (ctx) => {
  const config = ctx.step.config as LoadConfig;
  const ds = await ctx.resolveDatasource(config.target);
  let sink = await loadSinkConfig(ds, config);
  const staged = ds.type === 'file' ? await stagedFile(ctx, sink) : undefined;
  if (staged) sink = staged.config;
  try {
    const rows = await runStepTopology(
      ctx,
      {
        input: { type: 'step_output', config: { path: ctx.outputOf(ctx.step.input!) } },
        target: { type: ds.type, inputs: ['input'], config: sink },
      },
      'target',
    );
    if (staged) await rename(staged.temp, staged.final);
    return { rows, result: { target: config.target, table_name: config.table_name, mode: config.mode, rows_written: rows } };
  } finally {
    if (staged) await rm(staged.temp, { force: true });
  }
};
