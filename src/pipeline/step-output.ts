import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { Observable } from 'rxjs';
import type { Batch } from '../core/batch.js';
import { SluiceError, errorMessage } from '../core/errors.js';
import type { ReadContext, Sink, Source } from '../core/ports.js';
import { registry } from '../core/registry.js';

export const StepOutputConfigSchema = Type.Object(
  { path: Type.String({ minLength: 1, description: 'Directory of the Arrow IPC part files of one step output.' }) },
  { additionalProperties: false },
);
type StepOutputConfig = Static<typeof StepOutputConfigSchema>;

const PART = /^part-\d{6}\.arrow$/;

/** Part files of a finished step output, in order. */
export async function outputParts(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => PART.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Writes one Arrow IPC file per batch into a temporary directory and renames it into place in
 * `finish()`: a step output exists whole or not at all, so a retried step starts clean and
 * its dependents only ever see complete outputs.
 */
class StepOutputSink implements Sink {
  private parts = 0;
  private readonly temp: string;

  constructor(private readonly config: StepOutputConfig) {
    this.temp = `${config.path}.tmp`;
  }

  async open(): Promise<void> {
    await rm(this.temp, { recursive: true, force: true });
    await mkdir(this.temp, { recursive: true });
  }

  async write(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (batch.data.numRows === 0) return;
    const name = `part-${String(this.parts++).padStart(6, '0')}.arrow`;
    await writeFile(join(this.temp, name), tableToIPC(new Table([batch.data]), 'file'), { signal });
  }

  async finish(): Promise<void> {
    await rm(this.config.path, { recursive: true, force: true });
    await rename(this.temp, this.config.path);
  }

  async close(): Promise<void> {
    await rm(this.temp, { recursive: true, force: true });
  }
}

/** Reads a step output back one part (one batch) at a time, under the runtime's flow credits. */
class StepOutputSource implements Source {
  constructor(private readonly config: StepOutputConfig) {}

  async partitions(): Promise<string[]> {
    return ['output'];
  }

  read(partition: string, from: unknown, ctx: ReadContext): Observable<Batch> {
    return new Observable<Batch>((subscriber) => {
      let stopped = false;
      const run = async () => {
        const parts = await outputParts(this.config.path);
        for (const [index, file] of parts.entries()) {
          await ctx.flow.acquire();
          if (stopped || ctx.signal.aborted) return;
          for (const data of tableFromIPC(await readFile(file)).batches) {
            subscriber.next({
              data,
              meta: { stream: 'output', partition, position: index, kind: 'records', progress: { done: index + 1, total: parts.length } },
            });
          }
        }
      };
      run().then(
        () => subscriber.complete(),
        (error: unknown) =>
          subscriber.error(
            new SluiceError('SLUICE_SOURCE_FAILED', `reading step output ${this.config.path}: ${errorMessage(error)}`, { cause: error }),
          ),
      );
      return () => {
        stopped = true;
      };
    });
  }

  async commit(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Internal connector between pipeline steps: Arrow IPC part files in the run directory. */
export const stepOutputConnector = registry.connector({
  type: 'step_output',
  description: 'Pipeline step output (internal): Arrow IPC part files, one per batch, published atomically.',
  configSchema: StepOutputConfigSchema,
  createSource: (config) => new StepOutputSource(config),
  createSink: (config) => new StepOutputSink(config),
  unbounded: () => false,
});
