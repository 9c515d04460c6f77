import type { TSchema } from '@sinclair/typebox';
import { SluiceError } from './errors.js';
import { scanSecrets } from './secret-fields.js';

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Values resolved from `${env:NAME}` references; every log line and output masks them. */
const knownSecrets = new Set<string>();

export const REDACTED = '[redacted]';

/**
 * Replaces `${env:NAME}` references in every string of a config with the variable's value,
 * remembering each value so it can be redacted wherever it would be printed.
 */
export function resolveEnvRefs<T>(value: T, env: NodeJS.ProcessEnv = process.env, path = ''): T {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string) => {
      const resolved = env[name];
      if (resolved === undefined) {
        throw new SluiceError('SLUICE_ENV_MISSING', `${path || 'value'}: environment variable ${name} is not set`, {
          issues: [{ path, message: `environment variable ${name} is not set` }],
        });
      }
      if (resolved.length >= 4) knownSecrets.add(resolved);
      return resolved;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, `${path}[${i}]`)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveEnvRefs(v, env, path ? `${path}.${k}` : k);
    return out as T;
  }
  return value;
}

/** Adds a secret from elsewhere (e.g. a stored datasource password) to what every output masks. */
export function rememberSecret(value: string): void {
  if (value.length >= 4) knownSecrets.add(value);
}

/**
 * Adds every secret of a config to what every output masks: the fields its schema annotates
 * `secret: true` and the credentials inside its URLs and connection strings.
 */
export function rememberConfigSecrets(schema: TSchema | undefined, config: unknown): void {
  for (const value of scanSecrets(schema, config).values) rememberSecret(value);
}

/** Lists the `${env:NAME}` names a config refers to. */
export function envRefsOf(value: unknown): string[] {
  const text = JSON.stringify(value) ?? '';
  return [...text.matchAll(ENV_REF)].map((m) => m[1]);
}

/**
 * Masks every resolved secret value inside strings of any JSON-like value. Only arrays and plain
 * objects are walked (once each, so cycles end); other objects, such as an HTTP request a log
 * line carries for its serializer, pass through untouched.
 */
export function redactSecrets(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (knownSecrets.size === 0) return value;
  if (typeof value === 'string') {
    let out = value;
    for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }
  if (value instanceof Error) return redactSecrets(value.message);
  if (!value || typeof value !== 'object' || seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redactSecrets(v, seen));
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, seen);
  return out;
}
