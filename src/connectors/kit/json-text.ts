/**
 * JSON text of a value as Sluice writes it wherever JSON has no type for it: 64-bit integers
 * (bigints) as numbers while exact, else as decimal strings; bytes as base64; Arrow values
 * (rows, vectors) through their `toJSON`; dates as ISO 8601.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    // A replacer gets what `toJSON` made of a value: a Buffer would be `{ type: 'Buffer', data }`.
    const raw = this[key];
    if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function' && !(v instanceof Date)) return v.toJSON();
    return v;
  });
}
