import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows } from '../../src/core/batch.js';
import '../../src/register-all.js';
import { executePipeline } from '../../src/pipeline/executor.js';
import { planPipeline } from '../../src/pipeline/plan.js';
import { registerCustomStep } from '../../src/pipeline/steps/custom.js';
import { readAll } from '../formats/helpers.js';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sluice-load-replace-'));
const target = join(dir, 'dataset');
const resolveDatasource = async () => ({ type: 'file', config: { path: target, format: 'parquet' } });

const rowsOf = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: from + i }));

/** A custom step yielding `batches` batches of 10 rows, ids from `from`. */
function generator(name: string, from: number, batches: number): void {
  registerCustomStep(name, async function* () {
    for (let b = 0; b < batches; b++) yield recordBatchFromRows(rowsOf(from + b * 10, 10));
  });
}

function run(id: string, steps: unknown[]) {
  const runDir = join(dir, 'runs', id);
  return {
    runDir,
    result: executePipeline(planPipeline({ pipeline_id: id, settings: { retries: 0 }, steps }), {
      runId: id,
      runDir,
      signal: new AbortController().signal,
      logger,
      resolveDatasource,
    }),
  };
}

async function datasetRows(): Promise<Record<string, unknown>[]> {
  const rows = [];
  for (const name of readdirSync(target).sort()) rows.push(...(await readAll(join(target, name), 'parquet')).rows);
  return rows;
}

const snapshot = () =>
  Object.fromEntries(
    readdirSync(target)
      .sort()
      .map((name) => [name, readFileSync(join(target, name), 'base64')]),
  );

describe('load mode replace into a parquet directory', () => {
  it('a load failing after some batches leaves every old part; a successful one replaces them all', async () => {
    generator('old-dataset', 0, 10);
    const first = run('old', [
      { id: 'gen', type: 'custom', config: { function: 'old-dataset' } },
      { id: 'load', type: 'load', depends_on: ['gen'], config: { input_step: 'gen', target: 'dataset', mode: 'replace' } },
    ]);
    expect((await first.result).status).toBe('completed');
    expect(await datasetRows()).toEqual(rowsOf(0, 100));
    const before = snapshot();

    // The upstream output's eighth part is damaged: the load fails after writing seven batches.
    generator('new-dataset', 1000, 12);
    registerCustomStep('damage', async ({ params }) => writeFileSync(String(params.file), 'not arrow'));
    const steps = (damage?: string) => [
      { id: 'gen', type: 'custom', config: { function: 'new-dataset' } },
      ...(damage
        ? [
            {
              id: 'damage',
              type: 'custom',
              depends_on: ['gen'],
              config: { function: 'damage', params: { file: join(damage, 'gen', 'part-000007.arrow') } },
            },
          ]
        : []),
      {
        id: 'load',
        type: 'load',
        depends_on: damage ? ['gen', 'damage'] : ['gen'],
        config: { input_step: 'gen', target: 'dataset', mode: 'replace' },
      },
    ];
    const failedDir = join(dir, 'runs', 'damaged');
    const failed = await run('damaged', steps(failedDir)).result;
    expect(failed.status).toBe('failed');
    expect(failed.steps.get('load')!.status).toBe('failed');
    expect(snapshot()).toEqual(before);

    const ok = await run('replaced', steps()).result;
    expect(ok.status, ok.error).toBe('completed');
    expect(await datasetRows()).toEqual(rowsOf(1000, 120));
    expect(readdirSync(dir).sort()).toEqual(['dataset', 'runs']);
  });
});
