import type { TSchema } from '@sinclair/typebox';
import { maskCredentials } from './credentials.js';

/** What a config holds that must never be shown. */
export interface SecretScan<T> {
  /** The config without its secrets: annotated fields left out, credentials cut out of strings. */
  masked: T;
  /** Where each secret was, e.g. `password`, `sasl.password`, `url (password)`, `url (query sig)`. */
  fields: string[];
  /** The secret values, for redaction; never to be shown. */
  values: string[];
}

const WITHHELD = Symbol('withheld');

/**
 * Walks a config along its schema. A field whose schema carries the annotation `secret: true`
 * (`Type.String({ secret: true })`) is withheld whole, whatever its name; in every other string,
 * URL passwords and credential query parameters or connection-string entries are removed.
 * Unions and intersections count a field as secret when any branch says so; fields the schema
 * does not describe (or a missing schema) still get the string masking.
 */
export function scanSecrets<T>(schema: TSchema | undefined, value: T): SecretScan<T> {
  const fields: string[] = [];
  const values: string[] = [];
  const walk = (candidates: TSchema[], node: unknown, path: string): unknown => {
    const schemas = branches(candidates);
    if (schemas.some((s) => s.secret === true)) {
      fields.push(path || '(root)');
      values.push(...stringsIn(node));
      return WITHHELD;
    }
    if (typeof node === 'string') {
      const masked = maskCredentials(node);
      fields.push(...masked.labels.map((label) => `${path || '(root)'} (${label})`));
      values.push(...masked.values);
      return masked.text ?? WITHHELD;
    }
    if (Array.isArray(node)) {
      const items = itemSchemas(schemas);
      return node.map((item, i) => walk(items, item, `${path}[${i}]`)).filter((item) => item !== WITHHELD);
    }
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        const shown = walk(propertySchemas(schemas, key), child, path ? `${path}.${key}` : key);
        if (shown !== WITHHELD) out[key] = shown;
      }
      return out;
    }
    return node;
  };
  const masked = walk(schema ? [schema] : [], value, '');
  return { masked: (masked === WITHHELD ? undefined : masked) as T, fields, values: [...new Set(values)] };
}

/** The schemas a value may match: unions and intersections opened up to their branches. */
function branches(schemas: TSchema[]): TSchema[] {
  return schemas.flatMap((s) => {
    const parts = [s.anyOf, s.oneOf, s.allOf].filter(Array.isArray).flat() as TSchema[];
    return [s, ...branches(parts)];
  });
}

function propertySchemas(schemas: TSchema[], key: string): TSchema[] {
  return schemas.flatMap((s) => {
    const declared = (s.properties as Record<string, TSchema> | undefined)?.[key];
    if (declared) return [declared];
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, TSchema>).filter(([pattern]) =>
      new RegExp(pattern).test(key),
    );
    if (patterns.length > 0) return patterns.map(([, schema]) => schema);
    return typeof s.additionalProperties === 'object' ? [s.additionalProperties as TSchema] : [];
  });
}

function itemSchemas(schemas: TSchema[]): TSchema[] {
  return schemas.flatMap((s) =>
    [s.items, s.prefixItems, s.additionalItems].flat().filter((x): x is TSchema => !!x && typeof x === 'object'),
  );
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'bigint') return [String(value)];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}
