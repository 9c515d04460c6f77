import { Type } from 'apache-arrow';
import { DocumentInference } from '../connectors/kit/document-inference.js';
import type { Layout } from './text-reader.js';

export type JsonObject = Record<string, unknown>;

/** The JSON type a column of each Arrow type holds; a Utf8 column holds any value (as JSON text). */
const JSON_TYPES: Partial<Record<Type, 'number' | 'boolean'>> = { [Type.Float]: 'number', [Type.Bool]: 'boolean' };

/**
 * Columns are the keys of the sampled objects in first-seen order, typed by the connectors'
 * document inference: a key whose sampled values are all numbers is Float64, all booleans Bool,
 * anything else Utf8 (strings as they are, ISO dates included; nested objects/arrays and mixed
 * values as JSON text). A later object with a key outside the schema, or a value its column
 * cannot hold, does not fit.
 */
export function inferJsonLayout(sample: JsonObject[], sampleSize: number): Layout<JsonObject> {
  const inference = new DocumentInference({ nesting: 'json-text' });
  inference.observe(sample);
  const schema = inference.schema();
  const expected = schema.fields.map((f) => JSON_TYPES[f.type.typeId as Type]);
  const index = new Map(schema.fields.map((f, i) => [f.name, i]));
  return {
    schema,
    convert(object) {
      const row = new Array<unknown>(expected.length).fill(null);
      for (const [key, value] of Object.entries(object)) {
        const c = index.get(key);
        if (c === undefined) return `field ${JSON.stringify(key)} is not in the schema inferred from the first ${sampleSize} records`;
        if (value === null || value === undefined) continue;
        const type = expected[c];
        if (type !== undefined && typeof value !== type)
          return `field ${JSON.stringify(key)}: expected a ${type}, got ${Array.isArray(value) ? 'array' : typeof value}`;
        row[c] = value;
      }
      return row;
    },
  };
}

/**
 * Whether a parsed JSON value nests objects and arrays more than `max` levels deep (the value
 * itself is level 1). Walks with its own stack, so no depth can overflow the call stack.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const nodes: object[] = [];
  const depths: number[] = [];
  if (value !== null && typeof value === 'object') {
    nodes.push(value);
    depths.push(1);
  }
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Why a parsed JSON value cannot be a row, or undefined when it is an object. */
export function notAnObject(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return undefined;
  return `record is not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}
