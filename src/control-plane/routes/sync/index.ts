import { Type } from '@sinclair/typebox';
import { SluiceError } from '../../../core/errors.js';
import { logger as rootLogger } from '../../../core/logger.js';
import { parseSyncRule, SyncRuleSchema, type SyncRule } from '../../../sync/rule-schema.js';
import { requireSyncCapabilities, ruleSideConfig } from '../../../sync/compile-rule.js';
import { SyncEngine } from '../../../sync/sync-engine.js';
import { SyncScheduler } from '../../../sync/sync-scheduler.js';
import type { ControlPlane, TypedApp } from '../../control-plane.js';
import { findDatasource } from '../../screen-request.js';
import { errors } from '../../schemas/common.js';
import { ConflictView, ResolveBody, RuleIdParams, RuleStatusView, SyncRuleView, SyncRunView } from './schemas.js';

/**
 * Sync rules (the seed's documents, verbatim), runs, status with history and metrics, and
 * conflicts parked by the `manual` strategy. Datasources come from the control plane; rules,
 * state and history live in Redis (`SLUICE_REDIS_URL` / `REDIS_URL`).
 */
export async function syncRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const logger = rootLogger.child({ component: 'sync-routes' });
  const engine = new SyncEngine({ resolve: (name) => cp.state.datasources.resolve(name), logger });
  const scheduler = new SyncScheduler(engine, logger);
  const nextRun = (id: string) => scheduler.nextRun(id)?.toISOString() ?? null;
  const view = (rule: SyncRule) => ({ rule, next_run: nextRun(rule.rule_id) });
  app.addHook('onClose', async () => {
    scheduler.stopAll();
    await engine.close();
  });
  try {
    for (const rule of await engine.store.listRules()) scheduler.schedule(rule);
  } catch (error) {
    logger.warn({ err: error }, 'sync schedules not loaded: Redis unavailable');
  }

  app.post(
    '/sync/rules',
    {
      config: { access: 'operator' },
      schema: { tags: ['sync'], summary: 'Create a sync rule', body: SyncRuleSchema, response: { 201: SyncRuleView, ...errors(409) } },
    },
    async (request, reply) => {
      const rule = parseSyncRule(request.body, 'body');
      // Refused now what a run would refuse (datasources connected later are checked when it runs).
      for (const side of ['source', 'target'] as const) {
        const datasource = await findDatasource(cp, rule[side]);
        if (!datasource) continue;
        requireSyncCapabilities(rule, side, datasource.type, 'body');
        await ruleSideConfig(rule, side, datasource, 'body');
      }
      if (await engine.store.getRule(rule.rule_id)) {
        throw new SluiceError('SLUICE_CONFLICT', `sync rule '${rule.rule_id}' exists; delete it first`, {
          issues: [{ path: 'body.rule_id', message: 'already exists' }],
        });
      }
      await engine.store.putRule(rule);
      scheduler.schedule(rule);
      await request.audit('sync.rule.create', `sync:${rule.rule_id}`, { mode: rule.mode, bidirectional: rule.bidirectional });
      return reply.status(201).send(view(rule));
    },
  );

  app.get(
    '/sync/rules',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['sync'],
        summary: 'List sync rules',
        response: { 200: Type.Object({ rules: Type.Array(SyncRuleView) }), ...errors() },
      },
    },
    async () => ({ rules: (await engine.store.listRules()).map(view) }),
  );

  app.get(
    '/sync/rules/:rule_id',
    {
      config: { access: 'viewer' },
      schema: { tags: ['sync'], summary: 'One sync rule', params: RuleIdParams, response: { 200: SyncRuleView, ...errors(404) } },
    },
    async (request) => view(await engine.rule(request.params.rule_id)),
  );

  app.delete(
    '/sync/rules/:rule_id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['sync'],
        summary: 'Delete a sync rule with its state, history and conflicts',
        params: RuleIdParams,
        response: { 200: Type.Object({ deleted: Type.String() }), ...errors(404, 409) },
      },
    },
    async (request) => {
      const id = request.params.rule_id;
      await engine.rule(id);
      scheduler.unschedule(id);
      await engine.deleteRule(id);
      await request.audit('sync.rule.delete', `sync:${id}`);
      return { deleted: id };
    },
  );

  app.post(
    '/sync/execute/:rule_id',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['sync'],
        summary: 'Run a sync rule now (in the background unless wait=true)',
        params: RuleIdParams,
        querystring: Type.Object({ wait: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
        response: {
          200: SyncRunView,
          202: Type.Object({ run_id: Type.String(), rule_id: Type.String(), status: Type.Literal('running') }),
          ...errors(404, 409),
        },
      },
    },
    async (request, reply) => {
      const rule = await engine.rule(request.params.rule_id);
      const { runId, done } = await engine.start(rule);
      await request.audit('sync.execute', `sync:${rule.rule_id}`, { run_id: runId });
      if (request.query.wait) return reply.status(200).send(await done);
      return reply.status(202).send({ run_id: runId, rule_id: rule.rule_id, status: 'running' as const });
    },
  );

  app.get(
    '/sync/status',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['sync'],
        summary: 'Status of every sync rule, or of one: last run, totals, lag, state size, open conflicts',
        querystring: Type.Object(
          { rule_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ active_syncs: Type.Integer(), rules: Type.Array(RuleStatusView) }), ...errors(404) },
      },
    },
    async (request) => {
      const ids = request.query.rule_id
        ? [(await engine.rule(request.query.rule_id)).rule_id]
        : (await engine.store.listRules()).map((r) => r.rule_id);
      const rules = await Promise.all(ids.map(async (id) => ({ ...(await engine.status(id)), next_run: nextRun(id) })));
      return { active_syncs: rules.filter((r) => r.running).length, rules };
    },
  );

  app.get(
    '/sync/rules/:rule_id/history',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['sync'],
        summary: 'Runs of a sync rule, newest first, with their metrics',
        params: RuleIdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ runs: Type.Array(SyncRunView) }), ...errors(404) },
      },
    },
    async (request) => {
      await engine.rule(request.params.rule_id);
      return { runs: await engine.store.history(request.params.rule_id, request.query.limit ?? 20) };
    },
  );

  app.get(
    '/sync/rules/:rule_id/conflicts',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['sync'],
        summary: 'Conflicts parked for a manual decision',
        params: RuleIdParams,
        response: { 200: Type.Object({ conflicts: Type.Array(ConflictView) }), ...errors(404) },
      },
    },
    async (request) => {
      await engine.rule(request.params.rule_id);
      return { conflicts: await engine.conflicts(request.params.rule_id) };
    },
  );

  app.post(
    '/sync/rules/:rule_id/conflicts/resolve',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['sync'],
        summary: "Resolve a parked conflict: keep one side's row on both sides",
        params: RuleIdParams,
        body: ResolveBody,
        response: { 200: Type.Object({ key: Type.String(), written_to: Type.String() }), ...errors(404, 409) },
      },
    },
    async (request) => {
      const rule = await engine.rule(request.params.rule_id);
      const { written_to } = await engine.resolveConflicts(rule, [request.body.key], request.body.resolution);
      await request.audit('sync.conflict.resolve', `sync:${rule.rule_id}`, { key: request.body.key, resolution: request.body.resolution });
      return { key: request.body.key, written_to };
    },
  );
}
