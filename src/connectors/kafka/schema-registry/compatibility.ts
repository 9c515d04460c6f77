import avro from 'avsc';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Parses an Avro schema (text) with avsc; throws avsc's error when it is not a valid schema. */
export function parseAvro(schema: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
}

/** Why `reader` cannot read data written with `writer`, or undefined when it can. */
function cannotRead(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return explain(reader, writer, '') ?? (error as Error).message;
  }
}

/** Names the first field (a dotted path through records and nullable unions) that cannot be read. */
function explain(reader: avro.Type, writer: avro.Type, path: string): string | undefined {
  const r = recordOf(reader);
  const w = recordOf(writer);
  if (!r || !w) {
    try {
      reader.createResolver(writer);
      return undefined;
    } catch (error) {
      return `field ${path || '(root)'}: ${(error as Error).message}`;
    }
  }
  for (const field of r.fields) {
    const name = path ? `${path}.${field.name}` : field.name;
    const written = w.fields.find((f) => f.name === field.name || field.aliases.includes(f.name));
    if (!written) {
      if (field.defaultValue() === undefined) return `field ${name} is missing from the writer schema and has no default`;
      continue;
    }
    const problem = explain(field.type, written.type, name);
    if (problem) return problem;
  }
  return undefined;
}

/** The record inside a record type or a `["null", record]` union. */
function recordOf(type: avro.Type): avro.types.RecordType | undefined {
  if (type instanceof avro.types.RecordType) return type;
  if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) {
    const records = type.types.filter((t): t is avro.types.RecordType => t instanceof avro.types.RecordType);
    return records.length === 1 && type.types.length === 2 ? records[0] : undefined;
  }
  return undefined;
}

/**
 * Checks a new schema against earlier versions of a subject (oldest first) as Confluent does:
 * BACKWARD — the new schema reads data written with the previous one; FORWARD — the previous
 * schema reads data written with the new one; FULL — both; the TRANSITIVE forms check every
 * earlier version instead of only the latest. Returns the incompatibilities found (empty = compatible).
 */
export function incompatibilities(level: CompatibilityLevel, candidate: string, earlier: string[]): string[] {
  if (level === 'NONE' || earlier.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
  const next = parseAvro(candidate);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const text of against) {
    const previous = parseAvro(text);
    const back = backward ? cannotRead(next, previous) : undefined;
    if (back) messages.push(`BACKWARD: the new schema cannot read data written with ${describe(previous)}: ${back}`);
    const fwd = forward ? cannotRead(previous, next) : undefined;
    if (fwd) messages.push(`FORWARD: ${describe(previous)} cannot read data written with the new schema: ${fwd}`);
  }
  return messages;
}

function describe(type: avro.Type): string {
  return `the earlier schema${type.name ? ` ${type.name}` : ''}`;
}
