/** History and metrics of one sync run. */
export interface SyncRun {
  run_id: string;
  rule_id: string;
  mode: string;
  bidirectional: boolean;
  status: 'running' | 'completed' | 'stopped' | 'failed';
  trigger: 'manual' | 'schedule';
  started_at: string;
  finished_at?: string;
  duration_ms?: number;
  /**
   * How old the newest change the target may lack is when the run ends: changes committed at the
   * source after the run started reading are picked up by the next run.
   */
  lag_ms?: number;
  rows_read: number;
  rows_inserted: number;
  rows_updated: number;
  rows_deleted: number;
  rows_unchanged: number;
  /** Changes the rule's `filters.operations` kept from the target. */
  rows_filtered?: number;
  conflicts: number;
  /** Rows dead-lettered plus a failed run's error. */
  errors: number;
  error?: string;
  /** Bidirectional: writes made to the source side and to the target side. */
  writes_to_source?: number;
  writes_to_target?: number;
  /** Keys held in the rule's state after the run, and their memory in Redis. */
  state_keys?: number;
  state_bytes?: number;
}
