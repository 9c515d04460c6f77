import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import '../../src/register-all.js';
import { registry } from '../../src/core/registry.js';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { referenceFields, referenceMarkdown, topologyJsonSchema } from '../../src/topology/reference.js';
import { errorsMarkdown } from '../../src/core/error-reference.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { ROOT } from '../support/cli.js';

describe('generated schema and reference', () => {
  it('schemas/topology.schema.json and docs/reference.md are up to date (npm run schemas)', async () => {
    const schema = JSON.parse(await readFile(`${ROOT}/schemas/topology.schema.json`, 'utf8'));
    expect(schema).toEqual(topologyJsonSchema());
    expect(await readFile(`${ROOT}/docs/reference.md`, 'utf8')).toBe(referenceMarkdown());
  });

  it('docs/errors.md lists every error code with its status (npm run schemas)', async () => {
    const doc = await readFile(`${ROOT}/docs/errors.md`, 'utf8');
    expect(doc).toBe(errorsMarkdown());
    for (const [code, { http }] of Object.entries(ERROR_CODES)) expect(doc).toContain(`| \`${code}\` | ${http} |`);
  });

  it('covers every registered type, each with its config schema', () => {
    const schema = topologyJsonSchema() as {
      properties: { nodes: { patternProperties: Record<string, { allOf: Array<{ if: { properties: { type: { const: string } } } }> }> } };
    };
    const node = Object.values(schema.properties.nodes.patternProperties)[0];
    const covered = node.allOf.map((c) => c.if.properties.type.const).sort();
    expect(covered).toEqual([...registry.connectorTypes(), ...registry.transformTypes()].sort());
    const markdown = referenceMarkdown();
    for (const type of covered) expect(markdown).toContain(`### \`${type}\``);
  });

  it('shows nested fields with their examples and marks, and every example parses against its field', () => {
    const markdown = referenceMarkdown();
    const schemas: [string, TSchema][] = [
      ...registry.connectorTypes().map((t): [string, TSchema] => [t, registry.getConnector(t)!.configSchema]),
      ...registry.transformTypes().map((t): [string, TSchema] => [t, registry.getTransform(t)!.configSchema]),
    ];
    let examples = 0;
    for (const [type, schema] of schemas) {
      for (const field of referenceFields(schema)) {
        for (const example of (field.schema.examples as unknown[] | undefined) ?? []) {
          expect(
            [...Value.Errors(field.schema, example)].map((e) => e.message),
            `${type} ${field.name}: ${JSON.stringify(example)}`,
          ).toEqual([]);
          examples++;
        }
      }
    }
    expect(examples).toBeGreaterThan(40);
    expect(markdown).toContain('| `csv.delimiter` | string |  |  | `","`<br>`";"`<br>`"\\t"` |');
    expect(markdown).toContain('| `lookups[].source.type` | string | required |');
    expect(markdown).toContain('| `sasl.password` | string | required | secret |');
  });

  it('gives an example for every field of file, kafka and postgresql a config is written with (no default, not a choice)', () => {
    for (const type of ['file', 'kafka', 'postgresql']) {
      const fields = referenceFields(registry.getConnector(type)!.configSchema).filter(
        ({ schema }) => schema.default === undefined && !schema.anyOf && schema.type !== 'object' && schema.type !== 'boolean',
      );
      expect(fields.filter(({ schema }) => !schema.examples).map((f) => `${type}.${f.name}`)).toEqual([]);
    }
  });

  it('marks the role and mode each field of file, kafka and postgresql belongs to, as its description says', () => {
    const scopeOf = (type: string, name: string) => {
      const field = referenceFields(registry.getConnector(type)!.configSchema).find((f) => f.name === name)!;
      return field.schema.scope;
    };
    expect(scopeOf('kafka', 'topics')).toEqual({ role: 'source' });
    expect(scopeOf('kafka', 'topic')).toEqual({ role: 'sink' });
    expect(scopeOf('postgresql', 'slot')).toEqual({ role: 'source', mode: 'cdc' });
    expect(scopeOf('postgresql', 'cursor_column')).toEqual({ role: 'source', mode: 'incremental' });
    expect(scopeOf('postgresql', 'write_mode')).toEqual({ role: 'sink' });
    expect(scopeOf('file', 'max_record_bytes')).toEqual({ role: 'source' });
    expect(scopeOf('file', 'mode')).toEqual({ role: 'sink' });
    expect(scopeOf('postgresql', 'table')).toBeUndefined();
    // A description that says where a field applies and the scope agree.
    for (const type of ['file', 'kafka', 'postgresql']) {
      for (const { name, schema } of referenceFields(registry.getConnector(type)!.configSchema)) {
        const said = /^(Sink|Source)[,:]|^(cdc|incremental):/.exec(String(schema.description ?? ''));
        const both = /Source/.test(String(schema.description)) && /Sink/.test(String(schema.description));
        if (!said || both || name.includes('.')) continue;
        const scope = schema.scope as { role: string; mode?: string } | undefined;
        expect(scope, `${type}.${name}`).toBeDefined();
        if (said[1]) expect(scope!.role, `${type}.${name}`).toBe(said[1].toLowerCase());
        if (said[2]) expect(scope!.mode, `${type}.${name}`).toBe(said[2]);
      }
    }
    expect(referenceMarkdown()).toContain('| `slot` | string | `"sluice"` | source, mode cdc |');
  });
});
