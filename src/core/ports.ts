import type { Observable, OperatorFunction } from 'rxjs';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Batch, Position } from './batch.js';
import type { DeadLetter } from './dead-letter.js';
import type { ErrorIssue } from './errors.js';
import type { RequestedField } from './request-fields.js';

/**
 * Credits for batches in flight. A source awaits `acquire()` before it emits a batch; the runtime
 * releases the credit once every sink the batch reached has acknowledged it. A slow sink therefore
 * slows the source, and at most `limit` batches of a partition are in memory at once.
 */
export interface FlowControl {
  acquire(): Promise<void>;
}

export interface ReadContext {
  flow: FlowControl;
  /** Aborted when the run stops (SIGINT/SIGTERM or cancel): stop reading and complete. */
  signal: AbortSignal;
  logger: Logger;
  /** Rows per emitted batch the topology asks for. */
  batchSize: number;
}

export interface Source {
  /** The stream partitions to read, e.g. one per file, table or topic-partition. */
  partitions(): Promise<string[]>;
  /** Reads a partition from a position (or its start); a bounded source completes. */
  read(partition: string, from: Position | undefined, ctx: ReadContext): Observable<Batch>;
  /** Told after the checkpoint is stored: the source may release data up to here. */
  commit(partition: string, position: Position): Promise<void>;
  close(): Promise<void>;
}

export interface SinkOpenContext {
  /** True when the run resumes from a checkpoint: keep what earlier runs wrote. */
  resuming: boolean;
  /**
   * Names this sink in its run, the same in every resume of the run (topology and node name).
   * Absent when the run cannot resume (its checkpoints die with the process) or outside the
   * runtime. A sink that keeps staged writes across resumes keys them by it.
   */
  resumeKey?: string;
  logger: Logger;
  /**
   * Sends records the sink refuses (e.g. rows whose schema the destination rejects) to the
   * topology's dead-letter destination, so the run goes on. Absent outside the runtime.
   */
  deadLetter?(batch: Batch, deadLetters: DeadLetter[]): Promise<void>;
}

export interface Sink {
  open?(ctx: SinkOpenContext): Promise<void>;
  /**
   * Resolves only when the batch is durable at the destination. `signal` aborts when the run must
   * stop now (cancel, step timeout, shutdown): give up the write (cancel the statement, abort the
   * request) and reject; what the write staged must not be published. A write that ignores it is
   * abandoned after the run's grace period.
   */
  write(batch: Batch, signal?: AbortSignal): Promise<void>;
  /**
   * Called once when every input of the sink completed without error, before close: a sink that
   * stages its writes (e.g. an atomic table replace) publishes them here. Never called after a failure.
   */
  finish?(): Promise<void>;
  close(): Promise<void>;
}

export interface TransformContext {
  /** Node name in the topology, used as the dead-letter origin. */
  node: string;
  logger: Logger;
  /** True when the input of this node may never complete (a CDC or broker source feeds it). */
  unbounded: boolean;
}

export type Transform = OperatorFunction<Batch, Batch>;

export interface CheckpointStore {
  /** False when positions die with the process (nothing can resume from them); durable when unset. */
  readonly durable?: boolean;
  get(topology: string, partition: string): Promise<Position | undefined>;
  put(topology: string, partition: string, position: Position): Promise<void>;
  delete(topology: string, partition: string): Promise<void>;
  /** All partitions with a stored position for a topology. */
  list(topology: string): Promise<Record<string, Position>>;
  close(): Promise<void>;
}

export interface ConnectorContext {
  /** Node name in the topology. */
  node: string;
  logger: Logger;
}

/** What a connector node is in its topology: a source (no inputs) or a sink (inputs). */
export type ConnectorRole = 'source' | 'sink';

/** A connector type: one config schema, and a source and/or a sink built from it. */
export interface ConnectorDefinition<S extends TSchema = TSchema> extends ConnectorCapabilities {
  type: string;
  description: string;
  configSchema: S;
  /**
   * Rules across fields the schema cannot state, for one role: every problem, each with its path
   * inside the config (`topics`, `window.size`). Run on a config that passed the schema, before
   * anything is created; `createSource`/`createSink` get only configs without problems.
   */
  validate?(config: Static<S>, role: ConnectorRole): ErrorIssue[];
  createSource?(config: Static<S>, ctx: ConnectorContext): Source;
  createSink?(config: Static<S>, ctx: ConnectorContext): Sink;
  /** True when the source never completes by itself (CDC, brokers). */
  unbounded?(config: Static<S>): boolean;
  /** Tests that the system is reachable with this config (used when a datasource is connected); throws if not. */
  check?(config: Static<S>): Promise<void>;
  /**
   * True when this sink config commits the positions of `source` (a source node of this same
   * connector) inside its own writes, as Kafka exactly-once does: that source then resumes from
   * what the sink committed, not from the runtime's checkpoint.
   */
  commitsSourcePositions?(sinkConfig: Static<S>, source: { node: string; config: Static<S> }): boolean;
}

/**
 * What a connector can do, named so that pipeline steps and sync rules ask for a capability
 * instead of a connector type:
 * - `bounded_read`: a source read that completes (extract steps, full and snapshot sync);
 * - `incremental`: watermark reads resumed across runs; `cdc`: a change stream that runs until stopped;
 * - `upsert_sink`: a sink that writes by key; `changelog_apply`: a sink that applies `__op` rows;
 * - `atomic_replace`: a replace that publishes all or nothing;
 * - `sync_hash_push_down`: a full sync whose change detection runs on the server;
 * - `bidirectional_sync`: both ends of a bidirectional sync rule.
 */
export type ConnectorCapability =
  | 'bounded_read'
  | 'incremental'
  | 'cdc'
  | 'upsert_sink'
  | 'changelog_apply'
  | 'atomic_replace'
  | 'sync_hash_push_down'
  | 'bidirectional_sync';

/** The modes a sync rule reads its source in. */
export type SyncReadMode = 'full' | 'snapshot' | 'incremental' | 'cdc';

/** What a sync rule asks of its source, in the source's own column names. */
export interface SyncReadRequest {
  mode: SyncReadMode;
  /** The rule's key columns, when it names them. */
  key?: string[];
  /** The watermark column of an incremental rule. */
  cursorColumn?: string;
  /** A name owned by the rule, for server-side state it needs (a replication slot). */
  slot: string;
}

/** The fields a load step gives a sink, each with where in the request it came from. */
export interface LoadRequest {
  /** The step's `options`, as connector fields of the same name. */
  options: Record<string, RequestedField>;
  /** The step's own fields: `table` (its table_name), `path`, `key`, `create_table`, `mode`. */
  step: { mode: RequestedField } & Partial<Record<'table' | 'path' | 'key' | 'create_table', RequestedField>>;
  /** Where the step is in the request. */
  at: string;
}

/** Lays request fields over the datasource's stored config (see overlayRequest). */
export type RequestOverlay = (fields: Record<string, RequestedField>) => Promise<Record<string, unknown>>;

/**
 * A connector's declared capabilities and the hooks pipeline steps and sync rules call. Every
 * member is optional: a connector without hooks gets the request's fields laid over its config.
 */
export interface ConnectorCapabilities {
  capabilities?: readonly ConnectorCapability[];
  /** The source config an extract step reads with, from the datasource config with the step's fields on it. */
  extractConfig?(config: Record<string, unknown>): Record<string, unknown>;
  /** The sink config of a load step; unset, `options`, `table`, `path` and `key` are laid over the datasource config. */
  loadConfig?(request: LoadRequest, overlay: RequestOverlay): Promise<Record<string, unknown>>;
  /** The source config a sync rule reads with (`capabilities` has already admitted the mode). */
  syncSourceConfig?(config: Record<string, unknown>, request: SyncReadRequest): Record<string, unknown>;
  /**
   * Drops what a deleted cdc rule kept on the source's server (a replication slot retaining WAL);
   * `config` is the rule's source config, `slot` the name the rule used unless its config names one.
   */
  releaseSyncSource?(config: Record<string, unknown>, slot: string): Promise<void>;
  /**
   * With `sync_hash_push_down`: the connector type whose sources read this full-sync config with
   * change detection on the server, or undefined when this config cannot be (a query, not a table).
   */
  syncHashSource?(config: Record<string, unknown>): string | undefined;
}

/** A transform type: one config schema and an operator factory. */
export interface TransformDefinition<S extends TSchema = TSchema> {
  type: string;
  description: string;
  configSchema: S;
  /** True when output rows are not a subset of input rows (aggregate, pivot): no "filtered" count. */
  reshapes?: boolean;
  /** True when this config may hold rows past the batch they came in (windows, whole-input results). */
  holdsRows?(config: Static<S>): boolean;
  /** Rules across fields, as for connectors; `unbounded` when the input may never complete. */
  validate?(config: Static<S>, input: { unbounded: boolean }): ErrorIssue[];
  create(config: Static<S>, ctx: TransformContext): Transform;
}
