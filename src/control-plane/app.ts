import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { SluiceError } from '../core/errors.js';
import { logger as rootLogger, type Logger } from '../core/logger.js';
import '../register-all.js';
import type { ControlPlane, TypedApp } from './control-plane.js';
import { registerAudit } from './plugins/audit.js';
import { parseApiKeys, rateLimitKey, registerAuth } from './plugins/auth.js';
import { AuthFailureLimiter } from './plugins/auth-failures.js';
import { registerErrors } from './plugins/errors.js';
import { registerInputGuard } from './plugins/input-guard.js';
import { ControlPlaneMetrics, registerMetrics } from './plugins/metrics.js';
import { auditRoutes } from './routes/audit/index.js';
import { dataRoutes } from './routes/data/index.js';
import { datasourceRoutes } from './routes/datasources/index.js';
import { fileRoutes } from './routes/files/index.js';
import { healthRoutes } from './routes/health/index.js';
import { pipelineRoutes } from './routes/pipelines/index.js';
import { transformRoutes } from './routes/transform/index.js';
import { RunManager } from './run-manager.js';
import { Scheduler } from './scheduler.js';
import { ErrorResponse } from './schemas/common.js';
import { openStateStore } from './state/state-store.js';

export interface AppOptions {
  /** PostgreSQL URL of the state database (`SLUICE_DATABASE_URL`); embedded PGlite when unset. */
  databaseUrl?: string;
  /** Embedded database, development key, uploads and run scratch space; PGlite in memory when unset. */
  stateDir?: string;
  /** `key:role` list (`SLUICE_API_KEYS`); when empty every request acts as admin. */
  apiKeys?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Requests per minute per authenticated principal (per address for requests without a known key). */
  rateLimitPerMinute?: number;
  /** Unknown API keys per minute per address before that address is refused with 429. */
  authFailuresPerMinute?: number;
  /** Largest JSON body, bytes. */
  bodyLimitBytes?: number;
  /** Largest uploaded file, bytes. */
  uploadLimitBytes?: number;
  /** Allowed CORS origins; `true` reflects any origin. */
  corsOrigin?: string[] | boolean;
  /** Base delay of step retry backoff (tests shorten it). */
  retryDelayMs?: number;
}

export type SluiceApp = FastifyInstance & { controlPlane: ControlPlane };

/**
 * Builds the control plane: state (PGlite or PostgreSQL), runs, schedules, and every route
 * under `/api/v1`, with auth, audit, errors, request ids, CORS, rate limits and OpenAPI.
 * `sluice serve` listens with it; tests drive it with `app.inject`.
 */
export async function buildApp(options: AppOptions = {}): Promise<SluiceApp> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? rootLogger;
  const workDir = resolve(options.stateDir ?? '.sluice');
  const keys = parseApiKeys(options.apiKeys ?? env.SLUICE_API_KEYS);
  const requestsPerMinute = options.rateLimitPerMinute ?? perMinute(env, 'SLUICE_RATE_LIMIT_PER_MINUTE', 1200);
  const authFailures = new AuthFailureLimiter(options.authFailuresPerMinute ?? perMinute(env, 'SLUICE_AUTH_FAILURES_PER_MINUTE', 30));
  const state = await openStateStore({
    databaseUrl: options.databaseUrl ?? env.SLUICE_DATABASE_URL,
    stateDir: options.stateDir,
    env,
    logger,
  });
  const metrics = new ControlPlaneMetrics();
  const scheduler = new Scheduler(logger);
  const runs = new RunManager({
    state,
    workDir,
    logger,
    retryDelayMs: options.retryDelayMs,
    onFinished: (status) => metrics.runs.inc({ status }),
    onRefused: (pipeline, trigger) => metrics.refusedRuns.inc({ pipeline, trigger }),
  });
  const cp: ControlPlane = { state, runs, scheduler, metrics, workDir, uploadLimitBytes: options.uploadLimitBytes ?? 100 * 1024 * 1024 };

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Router-level rejections (bad URL encoding, overlong parameters) get the same error shape.
    frameworkErrors: (error, request, reply) => {
      void (reply as FastifyReply).status(error.statusCode ?? 400).send({
        error: {
          code: 'SLUICE_CONFIG_INVALID',
          message: error.message,
          issues: [{ path: 'url', message: error.message }],
          request_id: request.id,
        },
      });
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as TypedApp;
  app.addSchema(ErrorResponse);
  if (keys.length === 0) logger.warn('SLUICE_API_KEYS is not set: every request acts as admin; set it before exposing the server');

  registerErrors(app);
  registerInputGuard(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(cors, { origin: options.corsOrigin ?? env.SLUICE_CORS_ORIGINS?.split(',') ?? false });
  await app.register(rateLimit, {
    max: requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
  });
  await app.register(multipart, { limits: { fileSize: cp.uploadLimitBytes, files: 1, fields: 10 } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sluice control plane',
        version: '0.1.0',
        description: 'Datasources, data operations, transformations, pipelines and runs.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerAuth(app, keys, authFailures, ['/docs']);
  registerAudit(app, state.audit);
  registerMetrics(app, metrics, () => runs.activeCount);

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(async (scope) => healthRoutes(scope as TypedApp, cp));
  await app.register(
    async (api) => {
      const typed = api as TypedApp;
      await datasourceRoutes(typed, cp);
      await dataRoutes(typed, cp);
      await transformRoutes(typed, cp);
      await pipelineRoutes(typed, cp);
      await fileRoutes(typed, cp);
      await auditRoutes(typed, cp);
      await registerSyncRoutes(typed, cp);
    },
    { prefix: '/api/v1' },
  );

  app.addHook('onClose', async () => {
    scheduler.stopAll();
    await runs.shutdown();
    await state.close();
  });
  app.decorate('controlPlane', cp);
  return app as unknown as SluiceApp;
}

/** A per-minute limit from the environment: a positive integer, refused otherwise (never NaN). */
function perMinute(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', `${name} must be a positive integer; got '${text}'`, {
      issues: [{ path: `env.${name}`, message: 'expected a positive integer' }],
    });
  }
  return value;
}

/** Sync rule routes live in routes/sync/ (the sync engine); registered when that module exists. */
async function registerSyncRoutes(app: TypedApp, cp: ControlPlane): Promise<void> {
  const modulePath = './routes/sync/index.js';
  const module = (await import(modulePath).catch((error: NodeJS.ErrnoException) => {
    // Only the module itself missing means "no sync engine"; a missing import inside it is a bug.
    if (error.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes('routes/sync/index')) return undefined;
    throw error;
  })) as { syncRoutes?: (app: TypedApp, cp: ControlPlane) => Promise<void> } | undefined;
  await module?.syncRoutes?.(app, cp);
}
