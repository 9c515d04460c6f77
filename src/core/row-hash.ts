import { createHash } from 'node:crypto';

/**
 * The identity of a key: its column values as text, JSON-encoded, so it is readable in the
 * conflicts API and unambiguous (no separator can collide with a value).
 */
export function keyString(values: ReadonlyArray<string | null>): string {
  return JSON.stringify(values);
}

/** The key values back from a key string. */
export function keyValues(key: string): (string | null)[] {
  return JSON.parse(key) as (string | null)[];
}

/**
 * Hash of a row's values (as text, in a fixed column order): 16 bytes of SHA-1, base64. Two rows
 * hash alike only when every compared column has the same text, NULL being distinct from ''.
 */
export function rowHash(values: ReadonlyArray<string | null>): string {
  const hash = createHash('sha1');
  for (const value of values) {
    if (value === null) hash.update('\u0000N');
    else hash.update(`\u0001${value.length}:${value}`);
  }
  return hash.digest('base64').slice(0, 22);
}
