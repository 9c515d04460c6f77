import { scopeLabel } from '../core/config-scope.js';
import type { TSchema } from '@sinclair/typebox';
import { registry } from '../core/registry.js';
import { requestFieldNames } from '../core/request-fields.js';
import { NodeSpecSchema, TopologySpecSchema } from './schema.js';

/**
 * The topology JSON Schema for editors and other tools: the topology schema with each node's
 * `config` checked against the schema of the type it names.
 */
export function topologyJsonSchema(): Record<string, unknown> {
  const types = [
    ...registry.connectorTypes().map((t) => [t, registry.getConnector(t)!.configSchema] as const),
    ...registry.transformTypes().map((t) => [t, registry.getTransform(t)!.configSchema] as const),
  ];
  const nodeSchema = {
    ...plain(NodeSpecSchema),
    allOf: types.map(([type, config]) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: { properties: { config: plain(config) } },
    })),
  };
  const topology = plain(TopologySpecSchema) as { properties: Record<string, Record<string, unknown>> };
  const nodes = topology.properties.nodes;
  const pattern = Object.keys(nodes.patternProperties as object)[0];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://sluice.dev/schemas/topology.schema.json',
    title: 'Sluice topology',
    ...topology,
    properties: { ...topology.properties, nodes: { ...nodes, patternProperties: { [pattern]: nodeSchema } } },
  };
}

/** Markdown reference of every connector and transform, generated from their config schemas. */
export function referenceMarkdown(): string {
  const out = [
    '# Connector and transform reference',
    '',
    'Generated from the config schemas by `npm run schemas`; do not edit by hand.',
    'Each type validates its `config` with exactly this schema (see also `schemas/topology.schema.json`).',
    '',
    '## Connectors',
    '',
  ];
  for (const type of registry.connectorTypes()) {
    const c = registry.getConnector(type)!;
    const roles = [c.createSource && 'source', c.createSink && 'sink'].filter(Boolean).join(', ');
    out.push(`### \`${type}\` (${roles})`, '', c.description, '', ...fieldTable(c.configSchema), '', requestFieldsLine(c.configSchema), '');
  }
  out.push('## Transforms', '');
  for (const type of registry.transformTypes()) {
    const t = registry.getTransform(type)!;
    out.push(`### \`${type}\``, '', t.description, '', ...fieldTable(t.configSchema), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** One row of the reference: a field of a config, nested ones by their dotted path (`csv.delimiter`, `lookups[].key`). */
export interface ReferenceField {
  name: string;
  schema: TSchema;
  required: boolean;
}

/** The fields of a config schema, each object field followed by its own fields, depth first. */
export function referenceFields(schema: TSchema, prefix = ''): ReferenceField[] {
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).flatMap(([key, field]) => {
    const name = `${prefix}${key}`;
    const items = field.type === 'array' ? (field.items as TSchema) : undefined;
    return [
      { name, schema: field, required: required.has(key) },
      ...(items ? objectFields(items, `${name}[].`) : objectFields(field, `${name}.`)),
    ];
  });
}

/** Fields nested in an object, or in each object a union may be (a field two of them share is listed once). */
function objectFields(schema: TSchema, prefix: string): ReferenceField[] {
  if (schema.properties) return referenceFields(schema, prefix);
  const branches = ((schema.anyOf as TSchema[] | undefined) ?? []).filter((branch) => branch.properties);
  const seen = new Set<string>();
  return branches.flatMap((branch) => referenceFields(branch, prefix)).filter(({ name }) => !seen.has(name) && seen.add(name));
}

function fieldTable(schema: TSchema): string[] {
  const fields = referenceFields(schema);
  if (fields.length === 0) return ['No options.'];
  return [
    '| field | type | default | marks | examples | description |',
    '| --- | --- | --- | --- | --- | --- |',
    ...fields.map(({ name, schema: p, required }) => {
      const def = p.default === undefined ? (required ? 'required' : '') : `\`${JSON.stringify(p.default)}\``;
      const marks = [p.secret === true && 'secret', p.request === true && 'request', scopeLabel(p)].filter(Boolean).join(', ');
      const examples = ((p.examples as unknown[] | undefined) ?? []).map((e) => `\`${cell(JSON.stringify(e))}\``).join('<br>');
      return `| \`${name}\` | ${typeName(p)} | ${def} | ${marks} | ${examples} | ${cell(p.description ?? '')} |`;
    }),
  ];
}

/** Which fields a control-plane request may lay over a connected datasource of this type. */
function requestFieldsLine(schema: TSchema): string {
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const names = requestFieldNames(schema).map(
    (name) => `\`${name}\`${properties[name]?.confined ? ' (inside the datasource directory)' : ''}`,
  );
  return `A control-plane request may set: ${names.length > 0 ? names.join(', ') : 'no field'}.`;
}

function typeName(schema: TSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map(typeName).join(' \\| ');
  if (schema.type === 'array') return `${typeName(schema.items as TSchema)}[]`;
  if (schema.type === 'object') return 'object';
  return String(schema.type ?? 'any');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** JSON copy without TypeBox's symbol keys. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
