import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ControlPlaneMetrics } from './plugins/metrics.js';
import type { RunManager } from './run-manager.js';
import type { Scheduler } from './scheduler.js';
import type { StateStore } from './state/state-store.js';

/** What route modules share: state, runs, schedules, metrics and where files go. */
export interface ControlPlane {
  state: StateStore;
  runs: RunManager;
  scheduler: Scheduler;
  metrics: ControlPlaneMetrics;
  /** Uploaded files and run scratch space live under here. */
  workDir: string;
  uploadLimitBytes: number;
}

/** A fastify instance whose route schemas are TypeBox (validation, types and OpenAPI). */
export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
