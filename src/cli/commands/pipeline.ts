import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../main.js';
import { writeErr, writeOut } from '../output.js';
import { clientOptions, followEvents, request, type ClientOptions } from './control-plane-client.js';

interface Step {
  step_id: string;
  status: string;
  attempts: number;
  rows_out: number;
  error: string | null;
}
interface Run {
  run_id: string;
  status: string;
  error: string | null;
  steps: Step[];
}

const DONE = new Set(['completed', 'failed', 'timed_out', 'skipped', 'cancelled', 'interrupted']);

/** Starts a run and follows its events with a bar of steps done; returns the final run. */
async function runAndFollow(client: ClientOptions, pipelineId: string, showBar: boolean): Promise<Run> {
  const started = await request<Run>(client, 'POST', `/api/v1/pipelines/${encodeURIComponent(pipelineId)}/run`);
  if (started.status === 404) throw new Error(`no pipeline '${pipelineId}'`);
  const run = started.body;
  writeErr(`run ${run.run_id} started\n`);
  const steps = new Map(run.steps.map((s) => [s.step_id, s.status]));
  const rows = new Map<string, number>();
  const bar = showBar
    ? new cliProgress.SingleBar(
        { format: '{bar} {value}/{total} steps | {active} | {rows} rows', stream: process.stderr, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const payload = () => ({
    active:
      [...steps]
        .filter(([, s]) => s === 'running')
        .map(([id]) => id)
        .join(', ') || '-',
    rows: [...rows.values()].reduce((a, b) => a + b, 0),
  });
  const done = () => [...steps.values()].filter((s) => DONE.has(s)).length;
  bar?.start(steps.size, 0, payload());
  await followEvents(client, `/api/v1/pipelines/runs/${run.run_id}/events`, (event, data) => {
    const e = data as { step?: string; status?: string; rows?: number };
    if (event === 'step' && e.step) steps.set(e.step, e.status!);
    if ((event === 'progress' || event === 'step') && e.step && e.rows !== undefined) rows.set(e.step, e.rows);
    bar?.update(done(), payload());
  });
  bar?.stop();
  return (await request<Run>(client, 'GET', `/api/v1/pipelines/runs/${run.run_id}`)).body;
}

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'run and inspect pipelines on the control plane',
  usage: `Usage: sluice pipeline run <pipeline_id> [--url <url>] [--key <api key>]
       sluice pipeline list [--url <url>] [--key <api key>]

run: starts a run, shows a progress bar of its steps (live, over Server-Sent Events) and prints
each step's result. Exit 0 when the run completed, 1 when it did not.
--url and --key default to SLUICE_URL and SLUICE_API_KEY.`,
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { url: { type: 'string' }, key: { type: 'string' } },
    });
    const client = clientOptions(values);
    const [action, id] = positionals;
    if (action === 'list' && positionals.length === 1) {
      const { body } = await request<{ pipelines: Array<{ pipeline_id: string; version: number; schedule: string | null }> }>(
        client,
        'GET',
        '/api/v1/pipelines',
      );
      for (const p of body.pipelines) writeOut(`${p.pipeline_id}\tv${p.version}${p.schedule ? `\t${p.schedule}` : ''}\n`);
      return EXIT.ok;
    }
    if (action !== 'run' || !id || positionals.length !== 2) {
      writeOut(`${this.usage}\n`);
      return EXIT.usage;
    }
    const run = await runAndFollow(client, id, process.stderr.isTTY === true);
    for (const s of run.steps)
      writeOut(
        `${s.step_id.padEnd(24)} ${s.status.padEnd(11)} rows ${String(s.rows_out).padStart(10)}  attempts ${s.attempts}${s.error ? `  ${s.error}` : ''}\n`,
      );
    writeOut(`run ${run.run_id} ${run.status}${run.error ? `: ${run.error}` : ''}\n`);
    return run.status === 'completed' ? EXIT.ok : EXIT.failed;
  },
};
