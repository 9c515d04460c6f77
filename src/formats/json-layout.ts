import { Bool, Field, Float64, Schema, Utf8, type DataType } from 'apache-arrow';
import type { Layout } from './text-reader.js';

export type JsonObject = Record<string, unknown>;

type Kind = 'number' | 'boolean' | 'string';

function kindOf(value: unknown): Kind {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
}

const TYPES: Record<Kind, () => DataType> = {
  number: () => new Float64(),
  boolean: () => new Bool(),
  string: () => new Utf8(),
};

/**
 * Columns are the keys of the sampled objects in first-seen order. A key whose sampled values are
 * all numbers is Float64, all booleans Bool, anything else Utf8 (strings as they are, ISO dates
 * included; nested objects/arrays and mixed values as JSON text). A later object with a key outside
 * the schema, or a value its column cannot hold, does not fit.
 */
export function inferJsonLayout(sample: JsonObject[], sampleSize: number): Layout<JsonObject> {
  const kinds = new Map<string, Kind | undefined>();
  for (const object of sample) {
    for (const [key, value] of Object.entries(object)) {
      const known = kinds.get(key);
      if (value === null || value === undefined) {
        if (!kinds.has(key)) kinds.set(key, undefined);
        continue;
      }
      const kind = kindOf(value);
      kinds.set(key, known === undefined || known === kind ? kind : 'string');
    }
  }
  const names = [...kinds.keys()];
  const columnKinds = names.map((n) => kinds.get(n) ?? 'string');
  const index = new Map(names.map((n, i) => [n, i]));
  const schema = new Schema(names.map((n, i) => new Field(n, TYPES[columnKinds[i]](), true)));
  return {
    schema,
    convert(object) {
      const row = new Array<unknown>(names.length).fill(null);
      for (const [key, value] of Object.entries(object)) {
        const c = index.get(key);
        if (c === undefined) return `field ${JSON.stringify(key)} is not in the schema inferred from the first ${sampleSize} records`;
        if (value === null || value === undefined) continue;
        const kind = columnKinds[c];
        if (kind === 'string') row[c] = typeof value === 'string' ? value : JSON.stringify(value);
        else if (kindOf(value) === kind) row[c] = value;
        else return `field ${JSON.stringify(key)}: expected a ${kind}, got ${Array.isArray(value) ? 'array' : typeof value}`;
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
