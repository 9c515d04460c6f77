import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { recordBatchFromRows, rowsOf } from '../../src/core/batch.js';
import '../../src/register-all.js';
import { executePipeline, type PipelineEvent } from '../../src/pipeline/executor.js';
import { planPipeline } from '../../src/pipeline/plan.js';
import { registerCustomStep } from '../../src/pipeline/steps/custom.js';
import type { ResolvedDatasource } from '../../src/pipeline/steps/step-context.js';
import { SluiceError } from '../../src/core/errors.js';
import { gate, memorySink } from '../support/memory-connector.js';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sluice-executor-'));
const input = join(dir, 'resources.ndjson');
writeFileSync(
  input,
  [
    { resource_id: 'r1', region: 'eastus', cost: 10 },
    { resource_id: 'r2', region: 'westus', cost: 25 },
    { resource_id: 'r3', region: 'eastus', cost: null },
    { resource_id: 'r3', region: 'eastus', cost: 7 },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n') + '\n',
);

function datasources(extra: Record<string, ResolvedDatasource> = {}) {
  const all: Record<string, ResolvedDatasource> = {
    raw: { type: 'file', config: { path: input } },
    out: { type: 'file', config: { path: join(dir, 'out.ndjson') } },
    ...extra,
  };
  return async (name: string) => {
    if (!all[name]) throw new SluiceError('SLUICE_NOT_FOUND', `no datasource ${name}`);
    return all[name];
  };
}

function run(
  document: unknown,
  options: { signal?: AbortSignal; events?: PipelineEvent[]; resolve?: ReturnType<typeof datasources> } = {},
) {
  const runId = `run-${Math.random().toString(36).slice(2, 8)}`;
  return executePipeline(planPipeline(document), {
    runId,
    runDir: join(dir, 'runs', runId),
    signal: options.signal ?? new AbortController().signal,
    logger,
    resolveDatasource: options.resolve ?? datasources(),
    onEvent: (e) => options.events?.push(e),
    retryDelayMs: 10,
  });
}

registerCustomStep('one-batch', async function* () {
  yield recordBatchFromRows([{ id: 1 }]);
});

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('pipeline executor', () => {
  it('extracts, transforms, validates and loads in dependency order', async () => {
    const events: PipelineEvent[] = [];
    const result = await run(
      {
        pipeline_id: 'etl',
        steps: [
          { id: 'extract', type: 'extract', config: { source: 'raw' } },
          {
            id: 'east',
            type: 'transform',
            depends_on: ['extract'],
            config: {
              input_step: 'extract',
              transformations: [
                { type: 'map', priority: 2, config: { rename: { region: 'location' } } },
                { type: 'filter', priority: 1, config: { condition: "region = 'eastus'" } },
                { type: 'filter', enabled: false, config: { condition: 'false' } },
              ],
            },
          },
          {
            id: 'check',
            type: 'validate',
            depends_on: ['east'],
            config: {
              validation_rules: [
                { name: 'ids', type: 'not_null', columns: ['resource_id'] },
                { name: 'unique', type: 'unique', columns: ['resource_id'] },
                { name: 'cost', type: 'range', column: 'cost', min_value: 0, max_value: 9 },
                { name: 'count', type: 'row_count', min_value: 1 },
              ],
            },
          },
          { id: 'load', type: 'load', depends_on: ['check'], config: { target: 'out', mode: 'replace' } },
        ],
      },
      { events },
    );
    expect(result.status, result.error).toBe('completed');
    // filter (priority 1) ran before the rename (priority 2); the disabled filter did not run.
    expect(lines(join(dir, 'out.ndjson')).map((r) => [r.resource_id, r.location])).toEqual([
      ['r1', 'eastus'],
      ['r3', 'eastus'],
      ['r3', 'eastus'],
    ]);
    const report = result.steps.get('check')!.outcome!.result as {
      passed: boolean;
      rules: Array<{ name: string; violations: number; passed: boolean }>;
    };
    expect(report.passed).toBe(false);
    expect(Object.fromEntries(report.rules.map((r) => [r.name, r.violations]))).toEqual({ ids: 0, unique: 1, cost: 1, count: 0 });
    expect(result.steps.get('load')!.outcome!.rows).toBe(3);
    const order = events.filter((e) => e.type === 'step' && e.status === 'running').map((e) => (e as { step: string }).step);
    expect(order).toEqual(['extract', 'east', 'check', 'load']);
  });

  it('runs independent steps in parallel, bounded by max_parallel', async () => {
    let active = 0;
    let peak = 0;
    registerCustomStep('hold', async ({ params }) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 50));
      active--;
      return { held: params.n };
    });
    const steps = [1, 2, 3, 4].map((n) => ({ id: `h${n}`, type: 'custom', config: { function: 'hold', params: { n } } }));
    const result = await run({ pipeline_id: 'par', settings: { max_parallel: 2 }, steps });
    expect(result.status).toBe('completed');
    expect(peak).toBe(2);
    expect(result.steps.get('h3')!.outcome!.result).toEqual({ held: 3 });
  });

  it('retries a failing step and succeeds on a later attempt', async () => {
    let calls = 0;
    registerCustomStep('flaky', async () => {
      calls++;
      if (calls < 3) throw new SluiceError('SLUICE_CONNECTION_FAILED', 'transient');
      return 'ok';
    });
    const events: PipelineEvent[] = [];
    const result = await run(
      { pipeline_id: 'flaky', settings: { retries: 3 }, steps: [{ id: 'f', type: 'custom', config: { function: 'flaky' } }] },
      { events },
    );
    expect(result.status).toBe('completed');
    expect(result.steps.get('f')!.attempts).toBe(3);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });

  it('a step failing for good skips its dependents and leaves the target untouched', async () => {
    const target = join(dir, 'kept.ndjson');
    writeFileSync(target, '{"before":true}\n');
    registerCustomStep('broken', async () => {
      throw new SluiceError('SLUICE_RECORD_INVALID', 'bad data');
    });
    const result = await run(
      {
        pipeline_id: 'fail',
        steps: [
          { id: 'extract', type: 'extract', config: { source: 'raw' } },
          { id: 'boom', type: 'custom', depends_on: ['extract'], config: { function: 'broken' } },
          { id: 'load', type: 'load', depends_on: ['boom', 'extract'], config: { input_step: 'extract', target: 'kept' } },
        ],
      },
      { resolve: datasources({ kept: { type: 'file', config: { path: target } } }) },
    );
    expect(result.status).toBe('failed');
    expect(result.error).toContain('bad data');
    expect(result.steps.get('boom')!.attempts).toBe(1); // not retriable
    expect(result.steps.get('load')!.status).toBe('skipped');
    expect(readFileSync(target, 'utf8')).toBe('{"before":true}\n');
  });

  it('a file replace that fails half way leaves the old file; one that succeeds swaps in a new file', async () => {
    const target = join(dir, 'swap.ndjson');
    writeFileSync(target, '{"before":true}\n');
    const inode = statSync(target).ino;
    registerCustomStep('two-parts', async function* () {
      yield recordBatchFromRows([{ n: 1 }]);
      yield recordBatchFromRows([{ n: 2 }]);
    });
    // Damages the second part of the upstream output, so the load fails after writing the first.
    registerCustomStep('damage', async ({ params }) => writeFileSync(String(params.file), 'not arrow'));
    const runId = 'run-damaged';
    const runDir = join(dir, 'runs', runId);
    const steps = (damage: boolean) => [
      { id: 'gen', type: 'custom', config: { function: 'two-parts' } },
      ...(damage
        ? [
            {
              id: 'damage',
              type: 'custom',
              depends_on: ['gen'],
              config: { function: 'damage', params: { file: join(runDir, 'gen', 'part-000001.arrow') } },
            },
          ]
        : []),
      {
        id: 'load',
        type: 'load',
        depends_on: damage ? ['gen', 'damage'] : ['gen'],
        config: { input_step: 'gen', target: 'swap', mode: 'replace' },
      },
    ];
    const resolve = datasources({ swap: { type: 'file', config: { path: target } } });
    const failed = await executePipeline(planPipeline({ pipeline_id: 'damaged', settings: { retries: 0 }, steps: steps(true) }), {
      runId,
      runDir,
      signal: new AbortController().signal,
      logger,
      resolveDatasource: resolve,
    });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('load');
    expect(readFileSync(target, 'utf8')).toBe('{"before":true}\n');
    expect(statSync(target).ino).toBe(inode);
    const ok = await run({ pipeline_id: 'swap', steps: steps(false) }, { resolve });
    expect(ok.status, ok.error).toBe('completed');
    expect(lines(target)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(statSync(target).ino).not.toBe(inode);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('times out an attempt and fails the step after its retries', async () => {
    registerCustomStep('slow', ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('late'))));
    const result = await run({
      pipeline_id: 'slow',
      steps: [{ id: 's', type: 'custom', retries: 1, timeout_ms: 100, config: { function: 'slow' } }],
    });
    expect(result.status).toBe('timed_out');
    expect(result.steps.get('s')!.attempts).toBe(2);
    expect(result.error).toContain('timed out');
  });

  it('cancel stops running steps and cancels the rest', async () => {
    const controller = new AbortController();
    registerCustomStep('wait', ({ signal }) => {
      setTimeout(() => controller.abort(), 20);
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined)));
    });
    const result = await run(
      {
        pipeline_id: 'cancel',
        steps: [
          { id: 'w', type: 'custom', config: { function: 'wait' } },
          { id: 'after', type: 'custom', depends_on: ['w'], config: { function: 'hold' } },
        ],
      },
      { signal: controller.signal },
    );
    expect(result.status).toBe('cancelled');
    expect(result.steps.get('w')!.status).toBe('cancelled');
    expect(result.steps.get('after')!.status).toBe('cancelled');
  });

  it('a step timeout stops a load whose sink ignores its signal: the run ends timed_out, the attempt is abandoned, not retried', async () => {
    const stuck = memorySink('stuck-on-timeout');
    stuck.gate = gate().promise; // never opens, and the sink ignores its signal
    const result = await run(
      {
        pipeline_id: 'stuck',
        settings: { retries: 2, abort_grace_ms: 100 },
        steps: [
          { id: 'gen', type: 'custom', config: { function: 'one-batch' } },
          {
            id: 'load',
            type: 'load',
            depends_on: ['gen'],
            timeout_ms: 200,
            config: { input_step: 'gen', target: 'stuck', mode: 'replace' },
          },
        ],
      },
      { resolve: datasources({ stuck: { type: 'memory', config: { id: 'stuck-on-timeout' } } }) },
    );
    expect(result.status).toBe('timed_out');
    expect(result.steps.get('load')!.status).toBe('timed_out');
    expect(result.steps.get('load')!.attempts).toBe(1);
    expect(result.error).toMatch(/timed out after 200 ms.*did not stop within 100 ms/);
    // The write was given the step's signal, and it was aborted; nothing was published.
    expect(stuck.signals).toHaveLength(1);
    expect(stuck.signals[0]?.aborted).toBe(true);
    expect(stuck.finished).toBeUndefined();
  });

  it('cancel aborts a sink write in progress: a sink honouring its signal ends the run cancelled without the grace', async () => {
    const held = memorySink('held-on-cancel');
    held.gate = gate().promise;
    held.honourSignal = true;
    const controller = new AbortController();
    registerCustomStep('cancel-when-writing', async () => {
      while (held.signals.length === 0) await new Promise((r) => setImmediate(r));
      controller.abort();
    });
    const result = await run(
      {
        pipeline_id: 'held',
        // A grace longer than the test timeout: only a sink that stops on its signal lets this end.
        settings: { abort_grace_ms: 600_000 },
        steps: [
          { id: 'gen', type: 'custom', config: { function: 'one-batch' } },
          { id: 'load', type: 'load', depends_on: ['gen'], config: { input_step: 'gen', target: 'held', mode: 'append' } },
          { id: 'watch', type: 'custom', config: { function: 'cancel-when-writing' } },
        ],
      },
      { signal: controller.signal, resolve: datasources({ held: { type: 'memory', config: { id: 'held-on-cancel' } } }) },
    );
    expect(result.status).toBe('cancelled');
    expect(result.steps.get('load')!.status).toBe('cancelled');
    expect(result.steps.get('load')!.error).toBe('the run was cancelled');
    expect(held.signals[0]?.aborted).toBe(true);
    expect(held.rows).toEqual([]);
  });

  it('cancel during the backoff before a retry ends the step at once', async () => {
    const controller = new AbortController();
    registerCustomStep('fails-then-cancels', async () => {
      setImmediate(() => controller.abort());
      throw new SluiceError('SLUICE_CONNECTION_FAILED', 'transient');
    });
    const runId = 'run-backoff';
    // A ten-minute backoff: only a cancel that does not wait for it lets this end.
    const result = await executePipeline(
      planPipeline({
        pipeline_id: 'backoff',
        settings: { retries: 3 },
        steps: [{ id: 'f', type: 'custom', config: { function: 'fails-then-cancels' } }],
      }),
      {
        runId,
        runDir: join(dir, 'runs', runId),
        signal: controller.signal,
        logger,
        resolveDatasource: datasources(),
        retryDelayMs: 600_000,
      },
    );
    expect(result.status).toBe('cancelled');
    expect(result.steps.get('f')).toMatchObject({ status: 'cancelled', attempts: 1, error: 'the run was cancelled' });
  });

  it('a file replace cancelled mid-way leaves the old target file intact', async () => {
    const target = join(dir, 'cancelled-replace.ndjson');
    writeFileSync(target, '{"before":true}\n');
    const inode = statSync(target).ino;
    registerCustomStep('many-batches', async function* () {
      for (let b = 0; b < 300; b++) yield recordBatchFromRows(Array.from({ length: 10 }, (_, i) => ({ n: b * 10 + i })));
    });
    const controller = new AbortController();
    // Cancels as soon as the load has written its first rows to the staged file.
    registerCustomStep('cancel-when-staged', async () => {
      const staged = join(dir, '.cancelled-replace.ndjson.replace-staging');
      while (!(existsSync(staged) && statSync(staged).size > 0)) await new Promise((r) => setImmediate(r));
      controller.abort();
    });
    const result = await run(
      {
        pipeline_id: 'cancel-replace',
        steps: [
          { id: 'gen', type: 'custom', config: { function: 'many-batches' } },
          { id: 'load', type: 'load', depends_on: ['gen'], config: { input_step: 'gen', target: 'cancelled', mode: 'replace' } },
          { id: 'watch', type: 'custom', config: { function: 'cancel-when-staged' } },
        ],
      },
      { signal: controller.signal, resolve: datasources({ cancelled: { type: 'file', config: { path: target } } }) },
    );
    expect(result.status).toBe('cancelled');
    expect(result.steps.get('load')!.status).toBe('cancelled');
    expect(readFileSync(target, 'utf8')).toBe('{"before":true}\n');
    expect(statSync(target).ino).toBe(inode);
    expect(readdirSync(dir).filter((f) => f.includes('cancelled-replace.ndjson.'))).toEqual([]);
  });

  it('custom steps stream batches to dependents; sync steps fail clearly; the run directory is removed', async () => {
    registerCustomStep('numbers', async function* () {
      yield recordBatchFromRows([{ n: 1 }, { n: 2 }]);
      yield recordBatchFromRows([{ n: 3 }]);
    });
    registerCustomStep('sum', async ({ input }) => {
      let total = 0;
      for await (const batch of input!) for (const row of rowsOf(batch)) total += Number(row.n);
      return { total };
    });
    const ok = await run({
      pipeline_id: 'c',
      steps: [
        { id: 'gen', type: 'custom', config: { function: 'numbers' } },
        { id: 'sum', type: 'custom', depends_on: ['gen'], config: { function: 'sum', input_step: 'gen' } },
      ],
    });
    expect(ok.steps.get('sum')!.outcome!.result).toEqual({ total: 6 });
    const sync = await run({ pipeline_id: 's', steps: [{ id: 'sync', type: 'sync', config: { rule_id: 'r' } }] });
    expect(sync.status).toBe('failed');
    expect(sync.error).toContain('sync engine not available');
    expect(existsSync(join(dir, 'runs'))).toBe(true);
    expect(readdirCount(join(dir, 'runs'))).toBe(0);
  });
});

function readdirCount(path: string): number {
  return readdirSync(path).length;
}
