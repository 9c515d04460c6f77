/**
 * JSON text of a value as Sluice writes it wherever JSON has no type for it: 64-bit integers
 * (bigints) as numbers while exact, else as decimal strings; bytes as base64; Arrow values
 * (rows, vectors) through their `toJSON`; dates as ISO 8601.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function' && !(v instanceof Date)) return v.toJSON();
    return v;
  });
}
