import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../../core/errors.js';
import { envRefPath, envRefRefused } from '../../core/request-fields.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body is a config an admin stores (a datasource): its `${env:NAME}` references are kept, to be resolved when it is used. */
    storesEnvRefs?: boolean;
  }
}

/** Path of the first string holding a NUL character, which no text column can store. */
function nulPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = nulPath(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nulPath(v, `${path}.${k}`) ?? (k.includes('\u0000') ? `${path}.${k}` : undefined);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Rejects NUL characters in params, query and body before they reach a handler or the database,
 * and `${env:` anywhere in them: the server's environment is never expanded into a request.
 * Only an admin route that stores a config (`storesEnvRefs`) keeps references in its body.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const path = nulPath(request.params, 'params') ?? nulPath(request.query, 'querystring') ?? nulPath(request.body, 'body');
    if (path)
      throw new SluiceError('SLUICE_CONFIG_INVALID', `${path}: NUL characters are not allowed`, {
        issues: [{ path, message: 'NUL characters are not allowed' }],
      });
    const config = request.routeOptions.config;
    const storesEnvRefs = config?.storesEnvRefs === true && config.access === 'admin';
    const envPath =
      envRefPath(request.params, 'params') ??
      envRefPath(request.query, 'querystring') ??
      (storesEnvRefs ? undefined : envRefPath(request.body, 'body'));
    if (envPath) throw envRefRefused(envPath);
  });
}
