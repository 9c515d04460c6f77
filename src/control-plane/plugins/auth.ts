import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../../core/errors.js';
import type { AuthFailureLimiter } from './auth-failures.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Who may call a route: a role (or any role above it), or anyone for `public`. */
export type Access = Role | 'public';

export interface Principal {
  /** A fingerprint of the key, never the key itself. */
  actor: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

interface KeyEntry {
  digest: Buffer;
  principal: Principal;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Parses `SLUICE_API_KEYS`: comma-separated `key:role` entries, e.g. `k1:admin,k2:viewer`.
 * Keys are kept only as SHA-256 digests. Unset or empty means no keys (every request admin);
 * a value of only whitespace is refused, since whoever set it meant to require keys.
 */
export function parseApiKeys(spec: string | undefined): KeyEntry[] {
  if (spec === undefined || spec === '') return [];
  if (!spec.trim()) {
    throw new SluiceError(
      'SLUICE_CONFIG_INVALID',
      'SLUICE_API_KEYS is set but holds no key (only whitespace): give key:role entries, or unset it for local development',
      {
        issues: [{ path: 'env.SLUICE_API_KEYS', message: 'only whitespace' }],
      },
    );
  }
  return spec.split(',').map((entry, i) => {
    const at = entry.lastIndexOf(':');
    const key = entry.slice(0, at).trim();
    const role = entry.slice(at + 1).trim() as Role;
    if (at <= 0 || key.length < 8 || !ROLES.includes(role)) {
      throw new SluiceError(
        'SLUICE_CONFIG_INVALID',
        `SLUICE_API_KEYS entry ${i + 1}: expected <key of 8+ characters>:<viewer|operator|admin>`,
        {
          issues: [{ path: `env.SLUICE_API_KEYS[${i}]`, message: 'expected key:role' }],
        },
      );
    }
    const digest = createHash('sha256').update(key).digest();
    return { digest, principal: { actor: `key:${digest.toString('hex').slice(0, 12)}`, role } };
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, '').trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

/**
 * Whom a request's rate limit counts against: the principal its key authenticated (however the
 * header is spelled), else its address. Auth runs first, so the principal is known here.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const actor = request.principal?.actor;
  return actor?.startsWith('key:') ? actor : `address:${request.ip}`;
}

/**
 * Checks the key of every request against the access its route declares. Routes that declare
 * none are admin-only, so a forgotten declaration fails closed (routes of plugins under
 * `publicPrefixes`, such as the Swagger UI, are public). With no keys configured every
 * request acts as admin (local development only; the caller warns). Unknown keys count as
 * failures of the client's address; an address over `failures`' limit gets 429 on every
 * non-public route until its window ends.
 */
export function registerAuth(app: FastifyInstance, keys: KeyEntry[], failures: AuthFailureLimiter, publicPrefixes: string[] = []): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url ?? '';
    const access: Access = request.routeOptions.config?.access ?? (publicPrefixes.some((p) => url.startsWith(p)) ? 'public' : 'admin');
    if (keys.length === 0) {
      request.principal = { actor: 'anonymous', role: 'admin' };
      return;
    }
    const retryAfter = access === 'public' ? undefined : failures.retryAfterSeconds(request.ip);
    if (retryAfter !== undefined) {
      void reply.header('retry-after', String(retryAfter));
      throw new SluiceError('SLUICE_RATE_LIMITED', `too many failed authentications from this address; retry in ${retryAfter} s`, {
        issues: [{ path: 'headers.authorization', message: 'too many failed authentications from this address' }],
      });
    }
    const key = presentedKey(request);
    const digest = key === undefined ? undefined : createHash('sha256').update(key).digest();
    const match = digest && keys.find((k) => timingSafeEqual(k.digest, digest));
    if (match) request.principal = match.principal;
    if (access === 'public') return;
    if (!match) {
      if (key !== undefined) failures.recordFailure(request.ip);
      throw new SluiceError(
        'SLUICE_UNAUTHORIZED',
        key === undefined ? 'an API key is required (Authorization: Bearer <key> or X-API-Key)' : 'unknown API key',
        {
          issues: [{ path: 'headers.authorization', message: key === undefined ? 'missing API key' : 'unknown API key' }],
        },
      );
    }
    if (RANK[match.principal.role] < RANK[access]) {
      throw new SluiceError(
        'SLUICE_FORBIDDEN',
        `role ${match.principal.role} may not ${request.method} ${request.routeOptions.url}; needs ${access}`,
        {
          issues: [{ path: 'headers.authorization', message: `needs role ${access}` }],
        },
      );
    }
  });
}
