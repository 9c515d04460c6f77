import { detectType, type DetectedType } from '../../../transforms/profile/type-detect.js';

/** A JSON value as the text the type detector reads (objects and arrays as JSON). */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Column types of JSON rows, values given as strings included (CSV-like data). */
export function detectTypes(rows: Record<string, unknown>[]): Array<{ name: string; type: DetectedType; nullable: boolean }> {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return names.map((name) => {
    const values = rows.map((r) => asText(r[name]));
    return { name, type: detectType(values), nullable: values.some((v) => v === null || v.trim() === '') };
  });
}
