import type { Database } from './database.js';
import { iso } from './datasource-repository.js';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'interrupted';
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'timed_out' | 'skipped' | 'cancelled' | 'interrupted';

export interface StepResult {
  step_id: string;
  status: StepStatus;
  attempts: number;
  rows_out: number;
  result: unknown;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunRecord {
  run_id: string;
  pipeline_id: string;
  version: number;
  status: RunStatus;
  trigger: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  steps: StepResult[];
}

const ACTIVE = `('queued', 'running')`;

/** Runs and their step results, written as a run progresses so a restart finds them. */
export class RunRepository {
  constructor(private readonly db: Database) {}

  /**
   * Records a queued run unless its pipeline already has `limit` runs queued or running; then
   * returns those instead. The pipeline's row stays locked from the count to the insert, so
   * simultaneous starts, from any number of control planes over one database, are decided one
   * at a time.
   */
  async createWithinLimit(
    run: { run_id: string; pipeline_id: string; version: number; trigger: string },
    steps: string[],
    limit: number,
  ): Promise<{ created: true } | { created: false; active: string[] }> {
    return this.db.withTransaction(async (tx) => {
      await tx.query('select 1 from pipelines where pipeline_id = $1 for update', [run.pipeline_id]);
      const active = await tx.query<{ run_id: string }>(
        `select run_id from runs where pipeline_id = $1 and status in ${ACTIVE} order by created_at`,
        [run.pipeline_id],
      );
      if (active.length >= limit) return { created: false, active: active.map((r) => r.run_id) };
      await tx.query('insert into runs (run_id, pipeline_id, version, status, trigger) values ($1, $2, $3, $4, $5)', [
        run.run_id,
        run.pipeline_id,
        run.version,
        'queued',
        run.trigger,
      ]);
      for (const step of steps)
        await tx.query(`insert into step_results (run_id, step_id, status) values ($1, $2, 'pending')`, [run.run_id, step]);
      return { created: true };
    });
  }

  async setStatus(runId: string, status: RunStatus, error?: string): Promise<void> {
    const stamp = status === 'running' ? 'started_at = now(),' : status === 'queued' ? '' : 'finished_at = now(),';
    await this.db.query(`update runs set ${stamp} status = $2, error = $3 where run_id = $1`, [runId, status, error ?? null]);
  }

  async setStep(
    runId: string,
    stepId: string,
    update: { status: StepStatus; attempts?: number; rows_out?: number; result?: unknown; error?: string },
  ): Promise<void> {
    const stamp =
      update.status === 'running' ? 'started_at = coalesce(started_at, now()),' : update.status === 'pending' ? '' : 'finished_at = now(),';
    await this.db.query(
      `update step_results set ${stamp} status = $3, attempts = coalesce($4, attempts), rows_out = coalesce($5, rows_out),
         result = coalesce($6, result), error = $7 where run_id = $1 and step_id = $2`,
      [
        runId,
        stepId,
        update.status,
        update.attempts ?? null,
        update.rows_out ?? null,
        update.result === undefined ? null : JSON.stringify(update.result),
        update.error ?? null,
      ],
    );
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const [run] = await this.db.query<RunRecord>('select * from runs where run_id = $1', [runId]);
    if (!run) return undefined;
    const steps = await this.db.query<StepResult>(
      'select step_id, status, attempts, rows_out, result, error, started_at, finished_at from step_results where run_id = $1 order by started_at nulls last, step_id',
      [runId],
    );
    return { ...normalize(run), steps: steps.map(normalizeStep) };
  }

  async list(pipelineId: string, limit = 50): Promise<RunRecord[]> {
    const runs = await this.db.query<RunRecord>('select * from runs where pipeline_id = $1 order by created_at desc limit $2', [
      pipelineId,
      limit,
    ]);
    return runs.map((r) => ({ ...normalize(r), steps: [] }));
  }

  /** The latest run of each pipeline (or of one), in one query: the status endpoint is polled. */
  async latest(pipelineId?: string): Promise<Array<{ pipeline_id: string; last_run: RunRecord | null }>> {
    const rows = await this.db.query<RunRecord & { pid: string }>(
      `select p.pipeline_id as pid, r.* from pipelines p
       left join lateral (select * from runs where runs.pipeline_id = p.pipeline_id order by created_at desc limit 1) r on true
       where $1::text is null or p.pipeline_id = $1 order by p.pipeline_id`,
      [pipelineId ?? null],
    );
    return rows.map(({ pid, ...run }) => ({
      pipeline_id: pid,
      last_run: run.run_id ? { ...normalize(run as RunRecord), steps: [] } : null,
    }));
  }

  async countActive(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`select count(*)::int as n from runs where status in ${ACTIVE}`);
    return row.n;
  }

  /** At startup: no run can still be going, so what the database says is running was interrupted. */
  async markInterrupted(): Promise<number> {
    const runs = await this.db.query(
      `update runs set status = 'interrupted', finished_at = now(), error = 'the server stopped while the run was in progress' where status in ${ACTIVE} returning run_id`,
    );
    await this.db.query(
      `update step_results set status = 'interrupted', finished_at = now() where status in ('pending', 'running') and run_id in (select run_id from runs where status = 'interrupted')`,
    );
    return runs.length;
  }
}

function normalize(run: RunRecord): RunRecord {
  return {
    ...run,
    created_at: iso(run.created_at),
    started_at: run.started_at ? iso(run.started_at) : null,
    finished_at: run.finished_at ? iso(run.finished_at) : null,
  };
}

function normalizeStep(step: StepResult): StepResult {
  return {
    ...step,
    rows_out: Number(step.rows_out),
    started_at: step.started_at ? iso(step.started_at) : null,
    finished_at: step.finished_at ? iso(step.finished_at) : null,
  };
}
